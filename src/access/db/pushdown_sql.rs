//! The SQL of the pushed-down access contract: one statement that Postgres runs
//! over every user and every synced subscription, returning only what can make
//! a finding. Pure text building; every configured value is a bound parameter.
//!
//! Every subscription is parsed once, in one aggregation by customer (`c`): the rare
//! per-subscription facts the notes and ACC004 count (unknown statuses, unmapped prices,
//! ended cancellations) ride along as arrays, so that no second pass parses JSON again.
//!
//! Row kinds it returns (column `kind`):
//! - `users`, `subs`: whole-table counts (ACC010's, the notes' tallies);
//! - `status`, `price`: unknown statuses and unmapped prices (ACC004), counted;
//! - `duplicate`: user ids on several rows;
//! - `customer`: customers a per-customer rule may fire for (ACC005, ACC006, ACC009);
//! - `user`: user rows a per-user rule may fire for (ACC001-003, 007, 008, 002 without
//!   subscriptions), and every user of a `customer` row.
//!
//! The selection may be wider than the findings, never narrower: the rows that
//! come back are evaluated in process by the reference engine, with every
//! subscription of their customers, so the findings are the same as over all rows.

use super::billing_table::WHITESPACE;

/// Parameters, in order: $1 granting statuses (canonical, lower-case), $2 grace seconds,
/// $3 now (unix seconds), $4 mapped price ids, $5 their plans (same order), $6 comped user ids.
pub const PARAMETERS: usize = 6;

/// Statuses the contract knows by name (after aliases): others are noted.
const KNOWN_STATUSES: &str = "'active', 'trialing', 'past_due', 'canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused'";

/// The statement. `users` yields id, customer_id, access (boolean) and, with `with_plan`,
/// plan; `subs` are the seven columns of the synced table's select (items as jsonb unless
/// `price_per_row`), `from` its quoted table.
pub fn statement(users: &str, with_plan: bool, subs: &[String], from: &str, price_per_row: bool) -> String {
    let ws = WHITESPACE;
    let plan = if with_plan { "q.plan" } else { "NULL::text" };
    let items = if price_per_row { price_lateral() } else { items_lateral() };
    let entitling = "grant_ IN ('E', 'U')";
    let fires = "(SELECT unknown >= 3 AND unknown * 2 >= linked FROM ut)";
    let plan_drift = if with_plan {
        format!("OR (access AND ent > 0 AND (multi OR (pmin IS NOT NULL AND (pmin <> pmax OR plan IS NULL OR plan <> pmin OR btrim(plan, {ws}) = ''))))")
    } else {
        String::new()
    };
    format!(
        "WITH
u AS (SELECT btrim(q.id, {ws}) AS id, NULLIF(btrim(q.customer_id, {ws}), '') AS customer, COALESCE(q.access, false) AS access,
             q.access IS NULL AS null_access, {plan} AS plan
      FROM ({users}) AS q),
r AS (SELECT {sid} AS id, {scus} AS customer, {sst} AS status, {sitems} AS items, {scancel} AS cancel, {sstart} AS pstart, {send} AS pend
      FROM {from}),
s AS (SELECT btrim(r.id, {ws}) AS id, COALESCE(btrim(r.customer, {ws}), '') AS customer, st.status, x.prices, x.bad,
             COALESCE(r.cancel, false) AS cancel, COALESCE(r.pstart, x.item_start) AS pstart, COALESCE(r.pend, x.item_end) AS pend
      FROM r
      CROSS JOIN LATERAL (SELECT CASE lower(btrim(COALESCE(r.status, ''), {ws}))
                                   WHEN 'cancelled' THEN 'canceled' WHEN 'on_trial' THEN 'trialing' WHEN 'expired' THEN 'incomplete_expired'
                                   ELSE lower(btrim(COALESCE(r.status, ''), {ws})) END AS status OFFSET 0) AS st
      CROSS JOIN LATERAL ({items} OFFSET 0) AS x),
g AS (SELECT s.*, CASE
               WHEN s.status = ANY($1::text[]) THEN
                 CASE WHEN s.cancel AND s.pend IS NOT NULL AND s.pend <= $3::bigint THEN 'C' ELSE 'E' END
               WHEN s.status = 'past_due' AND $2::bigint > 0 THEN
                 CASE WHEN s.pstart IS NULL THEN 'U' WHEN s.pstart + $2::bigint <= $3::bigint THEN 'X' ELSE 'E' END
               ELSE 'N' END AS grant_
      FROM s),
c AS (SELECT customer, count(*) AS subs, count(*) FILTER (WHERE {entitling}) AS ent,
             min(plan1) FILTER (WHERE {entitling}) AS pmin, max(plan1) FILTER (WHERE {entitling}) AS pmax,
             COALESCE(bool_or(jsonb_array_length(prices) > 1) FILTER (WHERE {entitling}), false) AS multi,
             count(*) FILTER (WHERE bad) AS bad, min(id COLLATE \"C\") FILTER (WHERE bad) AS bad_id,
             count(*) FILTER (WHERE id IS NULL OR id = '') AS no_id,
             COALESCE(bool_or({entitling} AND jsonb_array_length(prices) > 0), false) AS priced,
             array_agg(id) FILTER (WHERE grant_ = 'C') AS ended, array_agg(id) FILTER (WHERE grant_ = 'U') AS unmeasured,
             array_agg(status) FILTER (WHERE odd) AS odd_statuses, array_agg(id) FILTER (WHERE odd) AS odd_ids,
             array_agg(prices) FILTER (WHERE unmapped) AS unmapped_prices, array_agg(id) FILTER (WHERE unmapped) AS unmapped_ids
      FROM (SELECT g.*, ($5::text[])[array_position($4::text[], btrim(g.prices->>0, {ws}))] AS plan1,
                   g.status NOT IN ({KNOWN_STATUSES}) AS odd,
                   {entitling} AND cardinality($4::text[]) > 0 AND NOT (g.prices <@ to_jsonb($4::text[])) AS unmapped
            FROM g) AS gp
      GROUP BY customer),
uc AS (SELECT u.*, c.customer IS NOT NULL AS known, COALESCE(c.ent, 0) AS ent, c.pmin, c.pmax, COALESCE(c.multi, false) AS multi
       FROM u LEFT JOIN c ON c.customer = u.customer),
ut AS (SELECT count(*) AS users, count(*) FILTER (WHERE null_access) AS null_access, count(*) FILTER (WHERE id IS NULL OR id = '') AS no_id,
              count(*) FILTER (WHERE access AND customer IS NOT NULL) AS linked,
              count(*) FILTER (WHERE access AND customer IS NOT NULL AND NOT known) AS unknown
       FROM uc),
uu AS (SELECT customer, min(id) <> max(id) AS shared FROM u WHERE customer IS NOT NULL GROUP BY customer),
custs AS (SELECT c.customer FROM c LEFT JOIN uu ON uu.customer = c.customer WHERE c.ent >= 2 OR (c.ent >= 1 AND uu.customer IS NULL)
          UNION
          SELECT customer FROM uu WHERE shared)
SELECT 'users' AS kind, NULL::text AS a, NULL::text AS b, NULL::text AS p, NULL::boolean AS flag,
       users AS n1, null_access AS n2, no_id AS n3, linked AS n4, unknown AS n5,
       ARRAY(SELECT DISTINCT uc.customer COLLATE \"C\" FROM uc WHERE uc.access AND uc.customer IS NOT NULL AND NOT uc.known ORDER BY 1 LIMIT 5) AS list,
       NULL::text[] AS list2
FROM ut
UNION ALL
SELECT 'subs', min(bad_id COLLATE \"C\"), NULL, NULL, COALESCE(bool_or(priced), false),
       COALESCE(sum(subs), 0)::bigint, COALESCE(sum(bad), 0)::bigint, COALESCE(sum(no_id), 0)::bigint,
       COALESCE(sum(cardinality(ended)), 0)::bigint, COALESCE(sum(cardinality(unmeasured)), 0)::bigint,
       ARRAY(SELECT e FROM c AS ce CROSS JOIN LATERAL unnest(ce.ended) AS e WHERE ce.ended IS NOT NULL ORDER BY e COLLATE \"C\" LIMIT 5),
       ARRAY(SELECT e FROM c AS cu CROSS JOIN LATERAL unnest(cu.unmeasured) AS e WHERE cu.unmeasured IS NOT NULL ORDER BY e COLLATE \"C\" LIMIT 5)
FROM c
UNION ALL
SELECT 'status', x.status, NULL, NULL, NULL, count(*), NULL, NULL, NULL, NULL, (array_agg(x.id ORDER BY x.id COLLATE \"C\"))[1:5], NULL
FROM c CROSS JOIN LATERAL unnest(c.odd_statuses, c.odd_ids) AS x(status, id) WHERE c.odd_ids IS NOT NULL GROUP BY x.status
UNION ALL
SELECT 'price', ps.price, NULL, NULL, NULL, count(*), NULL, NULL, NULL, NULL, (array_agg(x.id ORDER BY x.id COLLATE \"C\"))[1:5], NULL
FROM c CROSS JOIN LATERAL unnest(c.unmapped_prices, c.unmapped_ids) AS x(prices, id)
       CROSS JOIN LATERAL (SELECT btrim(p, {ws}) AS price FROM jsonb_array_elements_text(x.prices) AS p) AS ps
WHERE c.unmapped_ids IS NOT NULL AND array_position($4::text[], ps.price) IS NULL GROUP BY ps.price
UNION ALL
SELECT 'duplicate', id, NULL, NULL, NULL, count(*), NULL, NULL, NULL, NULL, NULL, NULL FROM u GROUP BY id HAVING count(*) > 1
UNION ALL
SELECT 'customer', customer, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM custs
UNION ALL
SELECT 'user', id, customer, plan, access, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM uc
WHERE (customer IS NULL AND access AND NOT (id = ANY($6::text[])))
   OR (customer IS NOT NULL AND (
         (ent > 0 AND NOT access)
      OR (access AND ent = 0 AND known AND NOT (id = ANY($6::text[])))
      OR (access AND NOT known AND NOT {fires} AND NOT (id = ANY($6::text[])))
      {plan_drift}
      OR customer IN (SELECT customer FROM custs)))",
        sid = subs[0],
        scus = subs[1],
        sst = subs[2],
        sitems = subs[3],
        scancel = subs[4],
        sstart = subs[5],
        send = subs[6],
    )
}

/// Prices (a jsonb array of ids, in item order) and the first item's period from Stripe's
/// items (`{"data":[…]}` or an array); `bad` for a value of another shape, which the
/// in-process reader refuses too. Items whose every element carries `price.id` (the sync
/// engine's shape) take one jsonpath call; others are read element by element, as the
/// in-process reader does (a price id or object, else a plan id or object).
/// `OFFSET 0` keeps each level a level: inlined, Postgres would evaluate `arr` and
/// `simple` once per reference, several times a row.
fn items_lateral() -> String {
    let id_of = |field: &str| {
        format!("CASE jsonb_typeof(e->'{field}') WHEN 'string' THEN e->>'{field}' WHEN 'object' THEN e->'{field}'->>'id' END")
    };
    let period = |field: &str| {
        format!("CASE WHEN jsonb_typeof(j.arr->0->'{field}') = 'number' THEN (j.arr->0->>'{field}')::bigint END")
    };
    format!(
        "SELECT CASE WHEN j.arr IS NULL THEN '[]'::jsonb
                     WHEN j.simple THEN jsonb_path_query_array(j.arr, '$[*].price.id')
                     ELSE (SELECT COALESCE(jsonb_agg(pe.p ORDER BY pe.n), '[]'::jsonb)
                           FROM (SELECT COALESCE({price}, {plan}) AS p, t.n FROM jsonb_array_elements(j.arr) WITH ORDINALITY AS t(e, n)) AS pe
                           WHERE pe.p IS NOT NULL) END AS prices,
                {start} AS item_start, {end} AS item_end,
                (j.shape_bad OR (j.arr IS NOT NULL AND NOT j.simple AND jsonb_path_exists(j.arr, '$[*] ? (@.type() != \"object\")'))) AS bad
         FROM (SELECT a.arr, a.shape_bad, a.arr IS NOT NULL AND NOT jsonb_path_exists(a.arr, '$[*] ? (!exists(@.price.id))') AS simple
               FROM (SELECT CASE WHEN jsonb_typeof(r.items) = 'array' THEN r.items
                                 WHEN jsonb_typeof(r.items) = 'object' AND jsonb_typeof(r.items->'data') = 'array' THEN r.items->'data' END AS arr,
                            NOT (r.items IS NULL OR jsonb_typeof(r.items) IN ('null', 'array')
                                 OR (jsonb_typeof(r.items) = 'object' AND jsonb_typeof(r.items->'data') = 'array')) AS shape_bad
                     OFFSET 0) AS a
               OFFSET 0) AS j",
        price = id_of("price"),
        plan = id_of("plan"),
        start = period("current_period_start"),
        end = period("current_period_end"),
    )
}

/// One price id per row (a hand-made table).
fn price_lateral() -> String {
    format!(
        "SELECT CASE WHEN r.items IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(btrim(r.items, {})) END AS prices,
                NULL::bigint AS item_start, NULL::bigint AS item_end, false AS bad",
        WHITESPACE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs() -> Vec<String> {
        ["\"id\"::text", "\"customer\"::text", "\"status\"::text", "\"items\"::jsonb", "NULL::boolean", "NULL::bigint", "NULL::bigint"]
            .map(str::to_string)
            .to_vec()
    }

    #[test]
    fn configured_values_are_parameters_never_text() {
        let sql = statement("SELECT id, customer_id, access FROM users", false, &subs(), "\"stripe\".\"subscriptions\"", false);
        let highest = (1..=9).rev().find(|n| sql.contains(&format!("${n}"))).unwrap();
        assert_eq!(highest, PARAMETERS, "every parameter is used, and no more");
        assert!(!sql.contains("plan <> pmin"), "no plan column: no plan drift selection");
        assert!(sql.contains("jsonb_array_elements"));
        let with_plan = statement("SELECT id, customer_id, access, plan FROM users", true, &subs(), "t", true);
        assert!(with_plan.contains("plan <> pmin") && with_plan.contains("jsonb_build_array(btrim(r.items"));
    }
}
