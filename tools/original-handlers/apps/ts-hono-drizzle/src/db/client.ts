import { drizzle } from 'drizzle-orm/neon-http';
import { neon } from '@neondatabase/serverless';
import * as schema from './schema';

export const getDb = (url: string) => drizzle(neon(url), { schema });
export type Db = ReturnType<typeof getDb>;
