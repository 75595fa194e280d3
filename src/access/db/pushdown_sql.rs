//! The SQL of the pushed-down access contract: a few statements that Postgres runs
//! over every user and every synced subscription, returning only what can make a
//! finding. Pure text building; every configured value is a bound parameter.
//!
//! Built for tens of millions of rows on a few cores:
//! - each subscription is reduced, in the parallel scan, to a narrow row of plain
//!   expressions (no subqueries, which would pull the work out of the parallel workers);
//!   its items are read with path operators in the shape the sync engine stores, and a
//!   row of any other shape is only flagged `complex`, to be read exactly elsewhere;
//! - users and subscriptions meet in one sort and one aggregation by customer (a
//!   `UNION ALL` of the two narrow streams grouped by customer), not in a join of two
//!   aggregates: one pass, ordered by `COLLATE "C"` (byte order, no locale lookups);
//! - that pass is split by a hash of the customer into parts run side by side on
//!   connections sharing one snapshot, each a whole pipeline (scan, sort, group, and a
//!   `ROLLUP` for its totals): in Postgres's own parallel plan, the merge of every worker's
//!   groups ran in one process and took 40 % of the time at 10M rows;
//! - the rare facts (unknown statuses, unmapped prices, ended cancellations, unmeasured
//!   grace, odd shapes) only have their count in that pass; [`rare`] reads their detail,
//!   with the exact item reader, only when there are any.
//!
//! The selection may be wider than the findings, never narrower: the customers that
//! come back are evaluated in process by the reference engine, with every user and
//! every subscription of theirs, so the findings are the same as over all rows.

use super::billing_table::WHITESPACE;

/// Parameters of [`main`] and [`rare`], in order: $1 granting statuses (canonical,
/// lower-case), $2 grace seconds, $3 now (unix seconds), $4 mapped price ids, $5 their plans
/// (same order). Comped users are not among them: they only ever widen the selection.
pub const PARAMETERS: usize = 5;

/// Statuses the contract knows by name (after aliases): others are noted.
const KNOWN_STATUSES: &str = "'active', 'trialing', 'past_due', 'canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused'";

/// The synced subscriptions table as the statements read it.
pub struct Subs<'a> {
    /// The seven columns of the synced table's select (items as jsonb unless `price_per_row`).
    pub columns: &'a [String],
    /// The quoted table.
    pub from: &'a str,
    /// One price id per row (a hand-made table) instead of Stripe's items.
    pub price_per_row: bool,
}

/// The users' SELECT (id, customer_id, access and, with `with_plan`, plan).
pub struct Users<'a> {
    pub sql: &'a str,
    pub with_plan: bool,
}

/// `x` trimmed of the whitespace the in-process reader trims; the common value, which starts
/// and ends with a visible character, is taken as it is without calling `btrim`.
pub(super) fn trimmed(x: &str) -> String {
    format!("CASE WHEN ascii({x}) > 32 AND ascii(right({x}, 1)) > 32 THEN {x} ELSE btrim({x}, {WHITESPACE}) END")
}

/// A status as the contract names it (lower-case, trimmed, aliases resolved); the common
/// value, already a known status, is taken as it is.
fn canonical_status(raw: &str) -> String {
    let slow = format!("lower(btrim(COALESCE({raw}, ''), {WHITESPACE}))");
    format!(
        "CASE WHEN {raw} IN ({KNOWN_STATUSES}) THEN {raw} ELSE CASE {slow} WHEN 'cancelled' THEN 'canceled' WHEN 'on_trial' THEN 'trialing' \
         WHEN 'expired' THEN 'incomplete_expired' ELSE {slow} END END"
    )
}

/// Every subscription as a narrow row of plain expressions, each computed once in the
/// parallel scan (the union's columns; anything derived from several of them is left to
/// the aggregation, since Postgres would copy a shared subexpression into each use):
/// customer, gr (`E` entitles, `U` entitles with unmeasured grace, `C` an ended
/// cancellation, `X` past the grace, `N` none), odd (an unknown status), sh (1: one item
/// with a string price id, 0: no items, -1: any other shape, read exactly by [`rare`]),
/// p1 (the first price id) and noid (no id).
fn subscription_columns(subs: &Subs) -> String {
    let c = subs.columns;
    let (id, raw_status, items, cancel, start, end) = (&c[0], &c[2], &c[3], &c[4], &c[5], &c[6]);
    let status = canonical_status(raw_status);
    // The first item's field, in a Stripe list object (`{"data": [...]}`) or a bare array.
    let first = |path: &str, op: &str| {
        format!("CASE jsonb_typeof({items}) WHEN 'array' THEN {items} {op} '{{0,{path}}}' ELSE {items} {op} '{{data,0,{path}}}' END")
    };
    let (shape, p1, item_start, item_end) = if subs.price_per_row {
        (format!("CASE WHEN {items} IS NULL THEN 0 ELSE 1 END"), format!("btrim({items}, {WHITESPACE})"), "NULL".into(), "NULL".into())
    } else {
        // The common row first: one item whose price id is a string, and no second item.
        let one = |list: &str, array: &str| {
            format!(
                "CASE WHEN jsonb_typeof({items} #> '{{{list}0,price,id}}') = 'string' THEN
                        CASE WHEN {items} #> '{{{list}1}}' IS NULL AND {array} THEN 1 ELSE -1 END
                      WHEN {items} #> '{{{list}0}}' IS NULL AND {array} THEN 0
                      ELSE -1 END"
            )
        };
        let period = |field: &str| format!("CASE WHEN jsonb_typeof({}) = 'number' THEN ({})::bigint END", first(field, "#>"), first(field, "#>>"));
        (
            format!(
                "CASE jsonb_typeof({items}) WHEN 'object' THEN {object} WHEN 'array' THEN {array} WHEN 'null' THEN 0
                      ELSE CASE WHEN {items} IS NULL THEN 0 ELSE -1 END END",
                object = one("data,", &format!("jsonb_typeof({items}->'data') = 'array'")),
                array = one("", "true"),
            ),
            first("price,id", "#>>"),
            period("current_period_start"),
            period("current_period_end"),
        )
    };
    let pstart = format!("COALESCE({start}, {item_start})");
    let pend = format!("COALESCE({end}, {item_end})");
    format!(
        "{customer} AS customer, true AS sub,
         CASE WHEN {status} = ANY($1::text[]) THEN
                CASE WHEN COALESCE({cancel}, false) AND {pend} <= $3::bigint THEN 'C' ELSE 'E' END
              WHEN {status} = 'past_due' AND $2::bigint > 0 THEN
                CASE WHEN {pstart} IS NULL THEN 'U' WHEN {pstart} + $2::bigint <= $3::bigint THEN 'X' ELSE 'E' END
              ELSE 'N' END AS gr,
         CASE WHEN {raw_status} IN ({KNOWN_STATUSES}) THEN false ELSE {status} NOT IN ({KNOWN_STATUSES}) END AS odd,
         {shape} AS sh, ({p1}) COLLATE \"C\" AS p1,
         {id} IS NULL OR (ascii({id}) <= 32 AND btrim({id}, {WHITESPACE}) = '') AS noid",
        customer = subscription_customer(subs),
    )
}

/// A subscription's customer as the grouping key: trimmed, none as empty.
fn subscription_customer(subs: &Subs) -> String {
    format!("COALESCE({}, '') COLLATE \"C\"", trimmed(&subs.columns[1]))
}

/// The users as narrow rows: id and customer trimmed (an empty customer is none), access
/// (a NULL is no access, and counted), plan.
fn users(users: &Users) -> String {
    let plan = if users.with_plan { "q.plan" } else { "NULL::text" };
    format!(
        "SELECT {id} AS id, q.id IS NULL OR (ascii(q.id) <= 32 AND btrim(q.id, {WHITESPACE}) = '') AS noid,
                NULLIF({customer}, '') COLLATE \"C\" AS customer,
                COALESCE(q.access, false) AS access, q.access IS NULL AS null_access, {plan} AS plan
         FROM ({}) AS q",
        users.sql,
        id = trimmed("q.id"),
        customer = trimmed("q.customer_id"),
    )
}

/// The main statement for part `p` of `parts`: the customers whose hash falls in it, their
/// users and subscriptions grouped by customer. Each part runs on its own connection, side
/// by side, a whole pipeline (scan, sort, group), so that no process merges what the others
/// grouped. A part returns one row of kind `totals`: flag: any entitling subscription with
/// a price (of the simple shape), n1 users, n2 1 if any user's access is NULL, n3 1 if any
/// user has no id, n4 users with access and a customer, n5 of those whose customer has no
/// subscription, n6 subscriptions, n7 customers with a rare subscription; and one row of
/// kind `customer` (a) per customer a rule may fire for (flag), whose users with access
/// have no subscription (n5 > 0), or with a rare subscription (n7 = 1), in customer order.
/// Part 0 also returns the row of kind `none`: the users without a customer (n1, n2, n3).
///
/// What a wider selection costs nothing to decide is decided wide: every customer with two
/// users, with an entitling subscription of another shape, or with two entitling
/// subscriptions comes back whole, and the reference engine tells.
pub fn main(u: &Users, subs: &Subs, parts: u32, p: u32) -> String {
    let part = part(u, subs, parts.max(1), p);
    if p > 0 {
        return part;
    }
    format!(
        "{part}
UNION ALL
SELECT 'none', -1, NULL, NULL, count(*), bool_or(u.null_access)::int::bigint, bool_or(u.noid)::int::bigint, NULL, NULL, NULL, NULL
FROM ({users}) AS u WHERE u.customer IS NULL",
        users = users(u)
    )
}

/// One part of [`main`]: the customers whose hash falls in part `p` of `parts`, grouped
/// once by customer, then rolled up (the `ROLLUP`'s grand total is the part's totals row,
/// computed in the same ordered pass as the per-customer rows it keeps).
fn part(u: &Users, subs: &Subs, parts: u32, p: u32) -> String {
    let ent = "gr IN ('E', 'U')";
    // With one user and one entitling subscription (any more comes back anyway): the
    // user has access and a plan that is not the plan of the subscription's mapped price.
    let plan_drift = if u.with_plan {
        let mapped = format!("($5::text[])[array_position($4::text[], {})]", trimmed("price"));
        format!("OR (ent = 1 AND with_access = 1 AND users = 1 AND COALESCE({mapped} <> plan, plan IS NULL AND {mapped} IS NOT NULL))")
    } else {
        String::new()
    };
    // Per row, one of: 1 a rare subscription (read in detail by [`rare`]), 2 one of another
    // shape, 4 a user whose access is NULL, 8 a user without id.
    let flags = format!(
        "CASE WHEN sub THEN CASE WHEN gr IN ('C', 'U') OR odd OR sh = -1 OR noid
                                  OR ({ent} AND sh = 1 AND cardinality($4::text[]) > 0 AND NOT (p1 = ANY($4::text[]))) THEN 1 ELSE 0 END
                           + CASE WHEN sh = -1 THEN 2 ELSE 0 END
              ELSE CASE WHEN null_access THEN 4 ELSE 0 END + CASE WHEN noid THEN 8 ELSE 0 END END"
    );
    // A customer's part, from the same bytes on both sides (hashtext hashes them as they are).
    let mine = |key: &str| if parts == 1 { "true".to_string() } else { format!("(hashtext({key}) & 2147483647) % {parts} = {p}") };
    format!(
        "SELECT CASE WHEN grouping(customer) = 1 THEN 'totals' ELSE 'customer' END AS kind, {p} AS part, customer::text AS a,
       CASE WHEN grouping(customer) = 1 THEN bool_or(priced) ELSE bool_or(wanted) END AS flag,
       sum(users) AS n1, bool_or(flags & 4 > 0)::int::bigint AS n2, bool_or(flags & 8 > 0)::int::bigint AS n3, sum(with_access) AS n4,
       COALESCE(sum(with_access) FILTER (WHERE unknown), 0) AS n5, sum(subs) AS n6, count(*) FILTER (WHERE flags & 1 > 0) AS n7
FROM (SELECT customer, users, with_access, subs, flags, price IS NOT NULL AS priced,
             ent >= 2 OR (ent >= 1 AND users = 0) OR users >= 2 OR flags & 2 > 0
               OR (ent > 0 AND with_access < users) OR (ent = 0 AND subs > 0 AND with_access > 0) {plan_drift} AS wanted,
             subs = 0 AND with_access > 0 AS unknown
      FROM (SELECT customer, (rows - subs)::int AS users, subs::int AS subs, ent, with_access::int AS with_access, flags, price, plan
            FROM (SELECT customer, count(*) AS rows, count(*) FILTER (WHERE sub) AS subs, count(*) FILTER (WHERE {ent}) AS ent,
                         count(*) FILTER (WHERE access) AS with_access, bit_or({flags}) AS flags,
                         max(p1) FILTER (WHERE {ent} AND sh = 1) AS price, max(plan) FILTER (WHERE access) AS plan
                  FROM (SELECT {subs_columns}, NULL::boolean AS access, NULL::boolean AS null_access, NULL::text COLLATE \"C\" AS plan
                        FROM {from} WHERE {subs_mine}
                        UNION ALL
                        SELECT u.customer, false, NULL, NULL, NULL, NULL, u.noid, u.access, u.null_access, u.plan COLLATE \"C\"
                        FROM ({users}) AS u
                        WHERE u.customer IS NOT NULL AND {users_mine}) AS both_sides
                  GROUP BY customer) AS counted) AS per_customer) AS k
GROUP BY ROLLUP (customer)
HAVING grouping(customer) = 1 OR bool_or(wanted OR unknown OR flags & 1 > 0)",
        subs_columns = subscription_columns(subs),
        subs_mine = mine(&subscription_customer(subs)),
        users_mine = mine("u.customer"),
        from = subs.from,
        users = users(u),
    )
}

/// How many users have a NULL access value, and how many no id (asked only when
/// [`main`] says there are any).
pub fn user_counts(u: &Users) -> String {
    format!("SELECT count(*) FILTER (WHERE u.null_access), count(*) FILTER (WHERE u.noid) FROM ({}) AS u", users(u))
}

/// The users of the customers [`main`] returned ($1), and the users with access but no
/// customer that are not comped ($2): id, customer, plan, access.
pub fn users_of(u: &Users) -> String {
    format!(
        "SELECT u.id, u.customer, u.plan, u.access FROM ({}) AS u
         WHERE u.customer = ANY($1::text[]) OR (u.customer IS NULL AND u.access AND NOT (u.id = ANY($2::text[])))",
        users(u)
    )
}

/// The customers whose users have access and which have no subscription of any status
/// (asked only when [`main`] returned more of them than are kept, and each is a finding).
pub fn unknown_customers(u: &Users, subs: &Subs) -> String {
    format!(
        "SELECT DISTINCT u.customer::text FROM ({users}) AS u
         WHERE u.customer IS NOT NULL AND u.access AND NOT EXISTS (SELECT 1 FROM {from} WHERE {key} = u.customer)",
        users = users(u),
        from = subs.from,
        key = subscription_customer(subs),
    )
}

/// User ids on several rows.
pub fn duplicate_ids(u: &Users) -> String {
    format!("SELECT u.id FROM ({}) AS u GROUP BY u.id HAVING count(*) > 1", users(u))
}

/// The detail of the rare subscriptions, read with the exact item reader. One row of kind
/// `subs`: a the smallest id of items of another shape, flag any entitling subscription
/// with a price, n1 such bad shapes, n2 rows without id, n3 ended cancellations, n4
/// unmeasured grace, list and list2 their first 5 ids; then `status` rows (a an unknown
/// status, n1 its subscriptions, list the first 5) and `price` rows (a an unmapped price).
/// With `listed`, only the subscriptions of the customers in $6 are read.
pub fn rare(subs: &Subs, listed: bool) -> String {
    let ws = WHITESPACE;
    let items = if subs.price_per_row { price_lateral() } else { items_lateral() };
    let c = subs.columns;
    // One CASE on each column, so that Postgres computes each once per row in the filter.
    let rare = "s.odd OR s.noid OR CASE s.gr WHEN 'C' THEN true WHEN 'U' THEN true
                   WHEN 'E' THEN CASE s.sh WHEN -1 THEN true WHEN 1 THEN cardinality($4::text[]) > 0 AND NOT (s.p1 = ANY($4::text[])) ELSE false END
                   ELSE s.sh = -1 END";
    let of_listed = if listed { "s.customer = ANY($6::text[]) AND " } else { "" };
    format!(
        "WITH g AS MATERIALIZED (
  SELECT s.id, s.status, s.gr, s.gr IN ('E', 'U') AS ent, s.odd, s.noid, x.prices, x.bad,
         s.gr IN ('E', 'U') AND cardinality($4::text[]) > 0 AND NOT (x.prices <@ to_jsonb($4::text[])) AS unmapped
  FROM (SELECT btrim({id}, {ws}) AS id, {status} AS status, {items_column} AS items, {columns} FROM {from}) AS s
  CROSS JOIN LATERAL ({items} OFFSET 0) AS x
  WHERE {of_listed}({rare}))
SELECT 'subs' AS kind, min(id COLLATE \"C\") FILTER (WHERE bad) AS a,
       COALESCE(bool_or(ent AND jsonb_array_length(prices) > 0), false) AS flag,
       count(*) FILTER (WHERE bad) AS n1, count(*) FILTER (WHERE noid) AS n2,
       count(*) FILTER (WHERE gr = 'C') AS n3, count(*) FILTER (WHERE gr = 'U') AS n4,
       ARRAY(SELECT id FROM g WHERE gr = 'C' ORDER BY id COLLATE \"C\" LIMIT 5) AS list,
       ARRAY(SELECT id FROM g WHERE gr = 'U' ORDER BY id COLLATE \"C\" LIMIT 5) AS list2
FROM g
UNION ALL
SELECT 'status', status, NULL, count(*), NULL, NULL, NULL, (array_agg(id ORDER BY id COLLATE \"C\"))[1:5], NULL
FROM g WHERE odd GROUP BY status
UNION ALL
SELECT 'price', ps.price, NULL, count(*), NULL, NULL, NULL, (array_agg(g.id ORDER BY g.id COLLATE \"C\"))[1:5], NULL
FROM g CROSS JOIN LATERAL (SELECT btrim(p, {ws}) AS price FROM jsonb_array_elements_text(g.prices) AS p) AS ps
WHERE g.unmapped AND array_position($4::text[], ps.price) IS NULL GROUP BY ps.price",
        id = c[0],
        status = canonical_status(&c[2]),
        items_column = c[3],
        columns = subscription_columns(subs),
        from = subs.from,
    )
}

/// Prices (a jsonb array of ids, in item order) from Stripe's items (`{"data":[…]}` or an
/// array), read as the in-process reader reads them (a price id or object, else a plan id
/// or object); `bad` for a value of another shape, which the in-process reader refuses too.
/// `OFFSET 0` keeps each level a level: inlined, Postgres would evaluate `arr` once per
/// reference. Only the rare rows come here.
fn items_lateral() -> String {
    let id_of = |field: &str| {
        format!("CASE jsonb_typeof(e->'{field}') WHEN 'string' THEN e->>'{field}' WHEN 'object' THEN e->'{field}'->>'id' END")
    };
    format!(
        "SELECT CASE WHEN j.arr IS NULL THEN '[]'::jsonb
                     WHEN j.simple THEN jsonb_path_query_array(j.arr, '$[*].price.id')
                     ELSE (SELECT COALESCE(jsonb_agg(pe.p ORDER BY pe.n), '[]'::jsonb)
                           FROM (SELECT COALESCE({price}, {plan}) AS p, t.n FROM jsonb_array_elements(j.arr) WITH ORDINALITY AS t(e, n)) AS pe
                           WHERE pe.p IS NOT NULL) END AS prices,
                (j.shape_bad OR (j.arr IS NOT NULL AND NOT j.simple AND jsonb_path_exists(j.arr, '$[*] ? (@.type() != \"object\")'))) AS bad
         FROM (SELECT a.arr, a.shape_bad, a.arr IS NOT NULL AND NOT jsonb_path_exists(a.arr, '$[*] ? (!exists(@.price.id))') AS simple
               FROM (SELECT CASE WHEN jsonb_typeof(s.items) = 'array' THEN s.items
                                 WHEN jsonb_typeof(s.items) = 'object' AND jsonb_typeof(s.items->'data') = 'array' THEN s.items->'data' END AS arr,
                            NOT (s.items IS NULL OR jsonb_typeof(s.items) IN ('null', 'array')
                                 OR (jsonb_typeof(s.items) = 'object' AND jsonb_typeof(s.items->'data') = 'array')) AS shape_bad
                     OFFSET 0) AS a
               OFFSET 0) AS j",
        price = id_of("price"),
        plan = id_of("plan"),
    )
}

/// One price id per row (a hand-made table).
fn price_lateral() -> String {
    format!(
        "SELECT CASE WHEN s.items IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(btrim(s.items, {})) END AS prices, false AS bad",
        WHITESPACE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<String> {
        ["\"id\"::text", "\"customer\"::text", "\"status\"::text", "\"items\"::jsonb", "NULL::boolean", "NULL::bigint", "NULL::bigint"]
            .map(str::to_string)
            .to_vec()
    }

    fn highest_parameter(sql: &str) -> usize {
        (1..=9).rev().find(|n| sql.contains(&format!("${n}"))).unwrap_or(0)
    }

    #[test]
    fn configured_values_are_parameters_never_text() {
        let cols = columns();
        let subs = Subs { columns: &cols, from: "\"stripe\".\"subscriptions\"", price_per_row: false };
        let u = Users { sql: "SELECT id, customer_id, access FROM users", with_plan: false };
        let sql = main(&u, &subs, 2, 0);
        assert!(highest_parameter(&sql) <= PARAMETERS, "no parameter past the bound ones");
        assert!(!sql.contains("<> plan,"), "no plan column: no plan drift selection");
        assert!(highest_parameter(&rare(&subs, false)) <= PARAMETERS);
        assert_eq!(highest_parameter(&rare(&subs, true)), PARAMETERS + 1, "the listed customers come after the shared parameters");
        assert_eq!(highest_parameter(&users_of(&u)), 2);
        assert_eq!(highest_parameter(&duplicate_ids(&u)), 0);
        assert!(rare(&subs, false).contains("jsonb_array_elements"));
        let with_plan = Users { sql: "SELECT id, customer_id, access, plan FROM users", with_plan: true };
        let per_row = Subs { columns: &cols, from: "t", price_per_row: true };
        assert!(main(&with_plan, &per_row, 1, 0).contains("<> plan,"));
        assert_eq!(highest_parameter(&main(&with_plan, &subs, 3, 2)), PARAMETERS, "every parameter is used, and no more");
        assert!(rare(&per_row, true).contains("jsonb_build_array(btrim(s.items"));
    }

    #[test]
    fn each_part_takes_its_customers_on_both_sides_and_one_part_takes_all() {
        let cols = columns();
        let subs = Subs { columns: &cols, from: "t", price_per_row: false };
        let u = Users { sql: "SELECT id, customer_id, access FROM users", with_plan: false };
        for p in 0..3 {
            let part = main(&u, &subs, 3, p);
            assert_eq!(part.matches(&format!("% 3 = {p}")).count(), 2, "subscriptions and users of part {p}");
            assert_eq!(part.matches("% 3 = ").count(), 2, "no other part's");
            assert_eq!(part.contains("'none'"), p == 0, "the users without a customer are counted once, in part 0");
        }
        assert!(!main(&u, &subs, 1, 0).contains("hashtext"));
        assert_eq!(highest_parameter(&unknown_customers(&u, &subs)), 0);
    }

    #[test]
    fn the_wide_scan_has_no_subqueries_so_it_stays_in_the_parallel_workers() {
        let cols = columns();
        for price_per_row in [false, true] {
            let subs = Subs { columns: &cols, from: "t", price_per_row };
            let scan = subscription_columns(&subs);
            assert!(!scan.contains("SELECT") && !scan.contains("OFFSET"), "a subquery or OFFSET 0 would keep the scan out of the workers: {scan}");
        }
    }
}
