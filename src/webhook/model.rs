//! The language-neutral model of a webhook handler: which events it handles
//! and what each does to access, plus verification, idempotency, error paths,
//! user lookup and refetches. Built by [`super::extract`], compared by
//! [`super::compare`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct HandlerModel {
    /// Event type -> what handling it does.
    pub events: BTreeMap<String, EventModel>,
    pub verification: Option<Verification>,
    pub idempotency: Idempotency,
    /// Catch blocks around event processing, and what they answer.
    pub error_paths: Vec<ErrorPath>,
    /// What an event type with no branch of its own answers (default / final else).
    pub unhandled: Option<Answer>,
    /// Price id -> plan name maps written in the handler.
    pub plan_map: BTreeMap<String, (String, u32)>,
    /// Environment variables holding the webhook signing secret.
    pub secret_vars: BTreeSet<String>,
    /// Line of the first syntax error, when the file did not parse cleanly.
    pub parse_error_line: Option<u32>,
    /// Why the file could not be analysed at all: its model is empty, not a pass.
    pub not_analysed: Option<String>,
    /// Line of the handler's entry point (the function that dispatches events), or 1.
    pub entry_line: u32,
    /// Verification mounted on this handler from another file (set by the repo scan).
    pub external: Option<ExternalVerification>,
    /// The file's entry points that reach the event dispatch, when there are several
    /// (two routes, one for each account): whether each verifies on its own path.
    pub entries: Vec<Entry>,
}

/// A route, view or exported function of the handler file that leads to the dispatch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Its name, or `route at line N` for an anonymous function.
    pub name: String,
    pub line: u32,
    /// The verifying call on this entry's own path, when there is one.
    pub verified_by: Option<String>,
}

/// A signature check that lives outside the handler file and is mounted on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExternalVerification {
    /// What verifies, e.g. `verifyStripeSignature (stripe.webhooks.constructEvent)`.
    pub verifier: String,
    /// The name the mount refers to.
    pub verifier_name: String,
    pub verifier_path: String,
    pub verifier_line: u32,
    /// Where it is mounted on the handler: a route, filter, plug, dependency or parent class.
    pub mount_path: String,
    pub mount_line: u32,
    pub mount: String,
}

impl ExternalVerification {
    /// `verifyStripeSignature (...) at src/middleware/stripe.ts:4, mounted at src/routes.ts:12`
    pub fn describe(&self) -> String {
        let at = if self.verifier_line > 0 { format!(" at {}:{}", self.verifier_path, self.verifier_line) } else { String::new() };
        format!("{}{at}, mounted at {}:{}", self.verifier, self.mount_path, self.mount_line)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EventModel {
    /// Where the event's branch starts (case label, if, map entry, decorator).
    pub line: u32,
    pub access_writes: Vec<AccessWrite>,
    /// Lines of database writes of any kind on this event's path.
    pub state_writes: Vec<u32>,
    /// Calls into code billguard cannot see (other files) whose names say they change state.
    pub opaque: Vec<Opaque>,
    /// How the user row is found.
    pub lookups: BTreeMap<LookupKey, u32>,
    /// Line of a refetch of the current object from the billing API.
    pub refetch: Option<u32>,
    /// Line of an event-ordering guard (event.created compared with a stored value).
    pub ordering_guard: Option<u32>,
    /// A missing row answers non-2xx (or throws).
    pub missing_row: Option<Answer>,
    /// The first hand-off of this event's work to something that runs after the
    /// answer (a goroutine, thread, background task, un-awaited promise, in-memory queue).
    pub deferral: Option<Deferral>,
    /// How many of the writes (access, state, opaque) were made inside such a hand-off.
    pub deferred_writes: usize,
    /// Writes whose shape matters for ordering (upsert, update-only, insert), by target.
    pub row_writes: Vec<RowWrite>,
    /// A sleep on the event's path (ordering by waiting).
    pub sleep: Option<u32>,
    /// Helpers of other files that were followed and write rows, none of them an
    /// access field (squashed names): a line that calls one is no access write,
    /// whatever its name says.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub writes_no_access: BTreeSet<String>,
    /// Helpers of other files that were followed and seen writing access (squashed
    /// names): a line that calls one moves access only as far as the model says.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub writes_access: BTreeSet<String>,
    /// Writes whose attributes a function of the app builds in a way the walk does
    /// not read (`parse_params(params)` reducing over a field table): which fields
    /// they set is not seen. The builders, as called.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub untraced_attributes: BTreeSet<String>,
}

/// One database write's shape and the table or model it writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowWrite {
    /// Lowercase, singular: `subscription` for `prisma.subscription`, `Subscription.objects`, `subscriptions`.
    pub target: String,
    pub shape: super::timing::WriteShape,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deferral {
    /// What hands the work off, e.g. `go func`, `setImmediate`, `threading.Thread`.
    pub how: String,
    pub line: u32,
}

impl EventModel {
    pub fn writes_anything(&self) -> bool {
        !self.state_writes.is_empty() || !self.access_writes.is_empty() || self.opaque.iter().any(|o| o.kind != OpaqueKind::Other)
    }
    /// Writes of every kind: access, state and opaque state-changing calls.
    pub fn write_count(&self) -> usize {
        self.access_writes.len() + self.state_writes.len() + self.opaque.iter().filter(|o| o.kind != OpaqueKind::Other).count()
    }
    /// Every write of this event happens after the handler has answered.
    pub fn all_writes_deferred(&self) -> bool {
        self.deferral.is_some() && self.write_count() > 0 && self.deferred_writes >= self.write_count()
    }
    pub fn moves_access(&self) -> bool {
        !self.access_writes.is_empty() || self.opaque.iter().any(|o| matches!(o.kind, OpaqueKind::Grant | OpaqueKind::Revoke))
    }

    /// What the event does, leaving out where the code doing it sits (lines,
    /// files, function names): each access write with its value and the
    /// statuses and checks around it, whether rows are written and how, the
    /// lookups, a hand-off. None when a state-changing call was not seen into:
    /// then what it does is not known, and neither is whether it changed.
    fn effects(&self) -> Option<Vec<String>> {
        if self.opaque.iter().any(|o| o.kind != OpaqueKind::Other) {
            return None;
        }
        let mut out: Vec<String> = self
            .access_writes
            .iter()
            .map(|w| {
                let field = super::lang::syntax::squash(&w.field);
                format!("{field}={:?} {} {:?} paid:{} early:{:?} guarded:{}", w.value, w.value_text, w.gate, w.payment_checked, w.early_revoke, w.guarded)
            })
            .collect();
        out.extend(self.row_writes.iter().map(|r| format!("row {} {:?}", r.target, r.shape)));
        out.extend(self.lookups.keys().map(|k| format!("lookup {k:?}")));
        out.push(format!("writes:{} deferred:{}", !self.state_writes.is_empty(), self.deferral.is_some()));
        out.sort();
        out.dedup();
        Some(out)
    }
}

impl HandlerModel {
    /// Whether two versions do the same for every event, wherever the code
    /// doing it moved (another file, a renamed helper): a change that only moves
    /// code. False when a version calls state-changing code it could not see into.
    pub fn same_effects(&self, other: &HandlerModel) -> bool {
        self.events.len() == other.events.len()
            && self.events.iter().all(|(name, e)| other.events.get(name).is_some_and(|o| e.effects().is_some_and(|mine| o.effects() == Some(mine))))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// true, a paid plan, a future date.
    Grant,
    /// false, null, 'free', 'canceled'.
    Revoke,
    /// Computed from billing data (`sub.status === 'active'`, `PLANS[price]`): grants or revokes.
    Derived,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "statuses")]
pub enum StatusGate {
    /// No status condition.
    None,
    /// Access only for these statuses.
    Allow(BTreeSet<String>),
    /// Access for every status except these.
    Deny(BTreeSet<String>),
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessWrite {
    pub field: String,
    pub value: ValueKind,
    /// The value as written, e.g. `true` or `'free'`.
    pub value_text: String,
    pub line: u32,
    /// Which subscription statuses this write applies to (from guards or the value).
    pub gate: StatusGate,
    /// A payment_status / paid-status check guards the write.
    pub payment_checked: bool,
    /// Revocation triggered by cancel_at_period_end or past_due: why, when so.
    pub early_revoke: Option<String>,
    /// The statuses are restricted by the conditions around the write (`if status ===
    /// 'active'`), not only by the value written (`active = status === 'active'`).
    pub guarded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpaqueKind {
    Grant,
    Revoke,
    Write,
    Other,
}

#[derive(Debug, Clone, Serialize)]
pub struct Opaque {
    pub name: String,
    pub kind: OpaqueKind,
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupKey {
    CustomerId,
    ClientReferenceId,
    Metadata,
    SubscriptionId,
    Email,
}

impl LookupKey {
    pub fn as_str(self) -> &'static str {
        match self {
            LookupKey::CustomerId => "customer id",
            LookupKey::ClientReferenceId => "client_reference_id",
            LookupKey::Metadata => "metadata",
            LookupKey::SubscriptionId => "subscription id",
            LookupKey::Email => "email",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    Raw,
    Parsed,
    /// Paddle Classic's `p_signature` signs the posted form fields, not the bytes: the
    /// parsed params are what it must be checked over.
    FormFields,
    Unknown,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub line: u32,
    /// The verifying call, e.g. `stripe.webhooks.constructEvent`.
    pub call: String,
    /// What the signature is computed over.
    pub body: BodyKind,
    pub body_text: String,
    /// A failed verification does not stop processing (caught and carried on, or a skip path).
    pub fail_open: Option<String>,
    /// Timestamp tolerance in seconds when given; `Some(0)` means disabled.
    pub tolerance: Option<Tolerance>,
    /// A weakness worth a note that no rule covers (a Paddle parser that keeps one h1).
    pub note: Option<String>,
    /// The signing secret can be taken from the request itself (a header): the sender
    /// chooses the secret it signs with, so nothing is verified. What it is read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_from_request: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "seconds")]
pub enum Tolerance {
    Seconds(f64),
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyedOn {
    EventId,
    ObjectId,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Idempotency {
    /// Dedup check with an early return, and what it is keyed on.
    pub check: Option<(KeyedOn, u32)>,
    /// The "mark processed" write.
    pub mark: Option<u32>,
    /// The mark is written before the event's state writes, outside a transaction with them.
    pub mark_before_writes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "status")]
pub enum Status {
    /// A 2xx answer (explicit or the framework's default for a returned body).
    Ok(u16),
    /// A non-2xx answer.
    Error(u16),
    /// An exception leaves the handler (the framework answers 5xx).
    Raises,
    Unknown,
}

impl Status {
    pub fn is_ok(self) -> bool {
        matches!(self, Status::Ok(_))
    }
    pub fn is_error(self) -> bool {
        matches!(self, Status::Error(_) | Status::Raises)
    }
    pub fn describe(self) -> String {
        match self {
            Status::Ok(c) | Status::Error(c) => c.to_string(),
            Status::Raises => "an exception (5xx)".into(),
            Status::Unknown => "an unknown status".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub status: Status,
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorPath {
    /// The catch clause.
    pub line: u32,
    pub status: Status,
    /// A catch at the tail of a called function that only logs: its status is what the
    /// caller answers next (`if err != nil { log.Error(..) }` in a per-event function).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub logged_in_callee: bool,
}
