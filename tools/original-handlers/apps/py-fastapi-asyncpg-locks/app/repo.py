import os

import asyncpg

_pool = None


async def init_pool() -> None:
    global _pool
    _pool = await asyncpg.create_pool(os.environ["DATABASE_URL"])


def pool():
    return _pool


async def lock_workspace(conn, customer_id: str, reason: str) -> None:
    await conn.execute(
        "UPDATE workspaces SET locked_at = now(), lock_reason = $2 WHERE stripe_customer_id = $1",
        customer_id,
        reason,
    )


async def unlock_workspace(conn, customer_id: str) -> None:
    await conn.execute(
        "UPDATE workspaces SET locked_at = NULL, lock_reason = NULL WHERE stripe_customer_id = $1",
        customer_id,
    )
