//! WH010 read from changed lines: a new error branch that acknowledges. A
//! failure that used to propagate (Rust `?`, an unhandled exception, a Go
//! error returned up) now lands in an added `Err(..) =>` arm, `catch`,
//! `except`, `rescue` or `if err != nil` block that answers 2xx.

use super::Hunk;
use super::hunks::{answers_2xx, answers_error, is_comment};

/// How many added lines after the branch opens are read for its answer.
const ARM_LINES: usize = 5;

/// (index of the branch line in the hunk, message) for each such branch.
pub fn review(h: &Hunk) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    let added: Vec<(usize, &str)> = h.lines.iter().enumerate().filter(|(_, (t, l))| *t == '+' && !is_comment(l)).map(|(i, (_, l))| (i, l.as_str())).collect();
    for (k, (at, line)) in added.iter().enumerate() {
        if !opens_error_branch(line) {
            continue;
        }
        let arm: Vec<&str> = added[k..].iter().take(ARM_LINES + 1).map(|(_, l)| *l).collect();
        // The branch's own lines, up to the next branch or the block's end.
        let body: Vec<&str> = arm.iter().copied().take_while(|l| !l.trim_start().starts_with('}') || l.contains("Ok(")).collect();
        if body.iter().any(|l| answers_2xx(l)) && !body.iter().any(|l| answers_error(l)) && !already_acknowledged(h, line) {
            let shown: String = line.trim().chars().take(100).collect();
            out.push(("WH010", *at, format!("the new error branch `{shown}` answers 2xx: a failure that reached the provider as an error is now acknowledged and never retried")));
        }
    }
    out.extend(swallowed_propagation(h, &added));
    out.extend(swallowed_go_error(h));
    out.extend(swallowed_go_call(h, &added));
    out.extend(swallowed_match(h, &added));
    out
}

/// Elixir: `{:ok, sub} = Subscriptions.create(attrs)` raised on a failure (a
/// MatchError: the webhook or job fails and is retried); it is now
/// `case Subscriptions.create(attrs) do ... rest -> Logger.warning(..); :ok end`,
/// whose catch-all arm reports success.
fn swallowed_match(h: &Hunk, added: &[(usize, &str)]) -> Vec<(&'static str, usize, String)> {
    let mut asserted: Vec<String> = Vec::new();
    let removed: Vec<&str> = h.lines.iter().filter(|(t, _)| *t == '-').map(|(_, l)| l.as_str()).collect();
    for (i, l) in removed.iter().enumerate() {
        let t = l.trim_start();
        let Some(rest) = t.strip_prefix("{:ok,").and_then(|r| r.split_once("} =")).map(|(_, r)| r.trim()) else { continue };
        // The call may be on the next removed line (`{:ok, sub} =\n  Subscriptions.update(...)`).
        let call = if rest.is_empty() { removed.get(i + 1).map_or("", |n| n.trim()) } else { rest };
        let name = call.split('(').next().unwrap_or("").rsplit('.').next().unwrap_or("").trim();
        if name.len() >= 3 {
            asserted.push(name.to_string());
        }
    }
    let mut out = Vec::new();
    for (k, (at, line)) in added.iter().enumerate() {
        let t = line.trim_start();
        let Some(subject) = t.strip_prefix("case ").and_then(|r| r.trim_end().strip_suffix(" do")) else { continue };
        let Some(name) = asserted.iter().find(|n| subject.contains(&format!("{n}("))) else { continue };
        // Arms after the `case`, up to its `end`: a catch-all one whose last line is `:ok`.
        let arms: Vec<&str> = added[k + 1..].iter().map(|(_, l)| *l).take(4 * ARM_LINES).collect();
        let catch_all = arms.iter().position(|l| {
            let a = l.trim();
            a.ends_with("->") && !a.starts_with("{:ok") && (a.starts_with('_') || a.starts_with("{:error") || a.split_whitespace().count() == 2)
        });
        let Some(c) = catch_all else { continue };
        let body: Vec<&str> = arms[c + 1..].iter().copied().take_while(|l| !l.trim().ends_with("->") && l.trim() != "end").collect();
        let acknowledges = body.last().is_some_and(|l| l.trim() == ":ok" || l.trim().starts_with("{:ok"));
        let fails = body.iter().any(|l| l.contains("raise") || l.contains(":error") || answers_error(l));
        if acknowledges && !fails {
            let shown: String = t.chars().take(100).collect();
            out.push((
                "WH010",
                *at,
                format!("`{shown}` now answers :ok when `{name}` fails, where the `{{:ok, _}} =` match raised before: the failure is acknowledged and never retried"),
            ));
        }
    }
    out
}

/// Rust: a call whose error propagated (`write(..).await?;`) is now matched with
/// `if let Err(e) = write(..).await {` whose body only logs: the handler goes on and
/// answers as if the write had happened.
fn swallowed_propagation(h: &Hunk, added: &[(usize, &str)]) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    let propagated: Vec<&str> = h.lines.iter().filter(|(t, l)| *t == '-' && l.trim_end().trim_end_matches(';').ends_with('?')).map(|(_, l)| l.as_str()).collect();
    if propagated.is_empty() {
        return out;
    }
    for (k, (at, line)) in added.iter().enumerate() {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix("if let Err(") else { continue };
        let Some(call) = rest.split_once('=').map(|(_, c)| c.trim()) else { continue };
        // The call's name: the last path segment before its `(`.
        let name = call.split('(').next().unwrap_or("").rsplit(['.', ':']).next().unwrap_or("").trim();
        // The call may span lines: its name on one removed line, the `.await?;` on another.
        let removed_call = h.lines.iter().any(|(t, l)| *t == '-' && l.contains(&format!("{name}(")));
        if name.len() < 3 || !removed_call {
            continue;
        }
        // The rest of the call (`.await`), the block's `{`, then the body up to its `}`.
        let body: Vec<&str> = added[k + 1..].iter().map(|(_, l)| *l).take_while(|l| !l.trim_start().starts_with('}')).take(ARM_LINES + 2).collect();
        let only_logs = body.iter().all(|l| {
            let t = l.trim();
            super::hunks::is_logging(l) || t.is_empty() || t == "{" || t.starts_with("//") || t.starts_with(['"', ')', '.', '&'])
        });
        if only_logs && !body.iter().any(|l| answers_error(l) || l.contains("return")) {
            let shown: String = t.chars().take(100).collect();
            out.push(("WH010", *at, format!("`{shown}` only logs an error that used to propagate (`?`): the handler goes on and acknowledges a failed write, so it is never retried")));
        }
    }
    out
}

/// Go: `if err != nil { return stacktrace.Propagate(err, "") }` now logs and returns
/// nil: the error no longer travels up to the HTTP answer, so the provider sees 200.
fn swallowed_go_error(h: &Hunk) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    for (i, (tag, line)) in h.lines.iter().enumerate() {
        let t = line.trim();
        if *tag != '-' || !returns_error(t) {
            continue;
        }
        // Directly in an `if err != nil {` block (the old view's line above).
        let opener = h.lines[..i].iter().rev().filter(|(t, l)| *t != '+' && !l.trim().is_empty() && !is_comment(l)).map(|(_, l)| l.trim()).next();
        if !opener.is_some_and(|o| o.starts_with("if ") && o.replace(' ', "").contains("err!=nil{")) {
            continue;
        }
        // What took its place: the added lines right after it.
        let replaced: Vec<(usize, &str)> = h.lines.iter().enumerate().skip(i + 1).skip_while(|(_, (t, _))| *t == '-').take_while(|(_, (t, _))| *t == '+').map(|(j, (_, l))| (j, l.trim())).collect();
        let nil = replaced.iter().find(|(_, l)| *l == "return nil" || (l.starts_with("return ") && l.ends_with(", nil")));
        let still_fails = replaced.iter().any(|(_, l)| l.starts_with("if ") || returns_error(l) || l.starts_with("panic("));
        if let Some((at, _)) = nil.filter(|_| !still_fails) {
            let shown: String = t.chars().take(100).collect();
            out.push(("WH010", *at, format!("`{shown}` is replaced by `return nil`: the error no longer reaches the HTTP answer, so the provider gets 200 and never retries")));
        }
    }
    out
}

/// Go: `return s.handleDeleted(r, event)` (its error answered by the caller) is now
/// `if err := s.handleDeleted(r, event); err != nil { log… }` then `return nil`: the
/// handler's failure is logged and acknowledged.
fn swallowed_go_call(h: &Hunk, added: &[(usize, &str)]) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    let returned: Vec<&str> = h.lines.iter().filter(|(t, _)| *t == '-').filter_map(|(_, l)| l.trim().strip_prefix("return ")).filter(|r| r.ends_with(')')).collect();
    for (k, (at, line)) in added.iter().enumerate() {
        let Some(call) = line.trim().strip_prefix("if err := ").and_then(|r| r.split_once("; err != nil {")).map(|(c, _)| c.trim()) else { continue };
        if !returned.contains(&call) {
            continue;
        }
        let body: Vec<&str> = added[k + 1..].iter().map(|(_, l)| l.trim()).take_while(|l| !l.starts_with('}')).take(ARM_LINES + 2).collect();
        let only_logs = body.iter().all(|l| l.is_empty() || l.starts_with("//") || super::hunks::is_logging(l) || l.starts_with('.') || l.contains(".Warn(") || l.contains(".Error("));
        let then = added[k + 1..].iter().map(|(_, l)| l.trim()).skip_while(|l| !l.starts_with('}')).nth(1);
        if only_logs && then == Some("return nil") {
            let shown: String = line.trim().chars().take(100).collect();
            out.push(("WH010", *at, format!("`{shown}` only logs the error `return {call}` handed up, then returns nil: the failure is acknowledged (200) and never retried")));
        }
    }
    out
}

/// A Go return that hands an error up (`return err`, `return nil, err`,
/// `return stacktrace.Propagate(err, "")`, `return fmt.Errorf("x: %w", err)`).
fn returns_error(t: &str) -> bool {
    let Some(rest) = t.strip_prefix("return ") else { return false };
    rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|w| w == "err")
}

fn opens_error_branch(line: &str) -> bool {
    let t = line.trim_start();
    let s = t.replace(' ', "");
    (s.starts_with("Err(") && s.contains("=>"))
        || s.starts_with("}catch") || s.starts_with("catch(") || s.starts_with("catch{")
        || s.starts_with("except") && s.ends_with(':')
        || s.starts_with("rescue")
        || s.starts_with("iferr!=nil")
        || s.starts_with("{:error,")
}

/// The removed lines already had a branch that answered 2xx: nothing changed there.
fn already_acknowledged(h: &Hunk, opening: &str) -> bool {
    let want = opening.trim();
    let mut removed = h.lines.iter().filter(|(t, _)| *t == '-').map(|(_, l)| l.as_str()).skip_while(|l| l.trim() != want);
    removed.next().is_some() && removed.take(ARM_LINES).any(answers_2xx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunk(lines: &[(char, &str)]) -> Hunk {
        Hunk { new_start: 1, section: String::new(), lines: lines.iter().map(|(t, l)| (*t, l.to_string())).collect() }
    }

    #[test]
    fn a_propagated_error_now_only_logged_is_wh010() {
        let swallowed = hunk(&[
            ('-', "    create_stripe_subscription_query(subscription_stripe_id, plan_id, org_id, pool).await?;"),
            ('+', "    if let Err(e) = create_stripe_subscription_query(subscription_stripe_id, plan_id, org_id, pool).await {"),
            ('+', "        log::error!(\"failed to create subscription: {:?}\", e);"),
            ('+', "    }"),
        ]);
        assert_eq!(review(&swallowed).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH010"]);
        // Quiet: the error is still answered, or the call is another one.
        let answered = hunk(&[
            ('-', "    create_stripe_subscription_query(id, pool).await?;"),
            ('+', "    if let Err(e) = create_stripe_subscription_query(id, pool).await {"),
            ('+', "        log::error!(\"{:?}\", e);"),
            ('+', "        return Err(ServiceError::InternalServerError(e.to_string()));"),
            ('+', "    }"),
        ]);
        assert!(review(&answered).is_empty());
        // Over several lines, as rustfmt writes it.
        let spread = hunk(&[
            ('-', "        create_stripe_subscription_query("),
            ('+', "        if let Err(e) = create_stripe_subscription_query("),
            (' ', "            pool.clone(),"),
            (' ', "        )"),
            ('-', "        .await?;"),
            ('+', "        .await"),
            ('+', "        {"),
            ('+', "            log::error!(\"Failed to create subscription: {:?}\", e);"),
            ('+', "        }"),
        ]);
        assert_eq!(review(&spread).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH010"]);
        let other = hunk(&[('-', "    save(id).await?;"), ('+', "    if let Err(e) = notify(id).await {"), ('+', "        log::warn!(\"{e}\");"), ('+', "    }")]);
        assert!(review(&other).is_empty());
    }

    #[test]
    fn an_elixir_ok_match_turned_into_a_case_that_answers_ok_is_wh010() {
        let swallowed = hunk(&[
            ('-', "          {:ok, subscription} ="),
            ('-', "            Subscriptions.update_subscription(subscription, attrs)"),
            ('+', "          case Subscriptions.update_subscription(subscription, attrs) do"),
            ('+', "            {:ok, _subscription} ->"),
            ('+', "              :ok"),
            ('+', ""),
            ('+', "            rest ->"),
            ('+', "              Logger.warning(\"Error updating subscription: #{inspect(rest)}\")"),
            ('+', "              :ok"),
            ('+', "          end"),
        ]);
        assert_eq!(review(&swallowed).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH010"]);
        // Quiet: the failure is still returned as an error.
        let returned = hunk(&[
            ('-', "          {:ok, subscription} = Subscriptions.update_subscription(subscription, attrs)"),
            ('+', "          case Subscriptions.update_subscription(subscription, attrs) do"),
            ('+', "            {:ok, _subscription} -> :ok"),
            ('+', "            {:error, changeset} ->"),
            ('+', "              Logger.warning(\"Error updating subscription\")"),
            ('+', "              {:error, changeset}"),
            ('+', "          end"),
        ]);
        assert!(review(&returned).is_empty());
    }

    #[test]
    fn an_error_that_propagated_and_now_lands_in_an_acknowledging_arm_is_wh010() {
        let rust = hunk(&[
            ('-', "    let metadata = load(&pool).await?;"),
            ('+', "    let metadata = match load(&pool).await {"),
            ('+', "        Ok(m) => m,"),
            ('+', "        Err(err) => {"),
            ('+', "            log::warn!(\"could not load: {err}\");"),
            ('+', "            return Ok(HttpResponse::Ok().finish());"),
            ('+', "        }"),
            ('+', "    };"),
        ]);
        assert_eq!(review(&rust).len(), 1);
        let go = hunk(&[('+', "\tif err != nil {"), ('+', "\t\tlog.Println(err)"), ('+', "\t\tw.WriteHeader(http.StatusOK)"), ('+', "\t\treturn"), ('+', "\t}")]);
        assert_eq!(review(&go).len(), 1);
    }

    #[test]
    fn an_error_branch_that_answers_an_error_or_was_there_before_is_quiet() {
        let rust = hunk(&[('+', "        Err(err) => {"), ('+', "            return Ok(HttpResponse::InternalServerError().finish());"), ('+', "        }")]);
        assert!(review(&rust).is_empty());
        let go = hunk(&[('+', "\tif err != nil {"), ('+', "\t\thttp.Error(w, err.Error(), http.StatusBadRequest)"), ('+', "\t\treturn"), ('+', "\t}")]);
        assert!(review(&go).is_empty());
        let moved = hunk(&[
            ('-', "    } catch (err) {"),
            ('-', "      return res.json({ received: true });"),
            ('+', "    } catch (err) {"),
            ('+', "      console.error(err);"),
            ('+', "      return res.json({ received: true });"),
        ]);
        assert!(review(&moved).is_empty());
    }

    #[test]
    fn a_go_error_handed_up_that_now_returns_nil_after_logging_is_swallowed() {
        let swallowed = hunk(&[
            (' ', "\teventLog, err := handler(event, country)"),
            (' ', "\tif err != nil {"),
            ('-', "\t\treturn stacktrace.Propagate(err, \"\")"),
            ('+', "\t\tlog.WithError(err).Error(\"Failed to handle stripe webhook\")"),
            ('+', "\t\treturn nil"),
            (' ', "\t}"),
        ]);
        assert_eq!(review(&swallowed).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH010"]);
        // A narrower branch that acknowledges one known case, the error still handed up: quiet.
        let narrowed = hunk(&[
            (' ', "\tif err != nil {"),
            ('+', "\t\tif errors.Is(err, sql.ErrNoRows) {"),
            ('+', "\t\t\treturn nil"),
            ('+', "\t\t}"),
            (' ', "\t\treturn stacktrace.Propagate(err, \"\")"),
            (' ', "\t}"),
        ]);
        assert!(review(&narrowed).is_empty());
        // The handler's own error, once returned, now only logged before `return nil`.
        let logged = hunk(&[
            (' ', "\tcase \"customer.subscription.deleted\":"),
            ('-', "\t\treturn s.handleSubscriptionDeleted(r, v, event)"),
            ('+', "\t\tif err := s.handleSubscriptionDeleted(r, v, event); err != nil {"),
            ('+', "\t\t\tlogvr(v, r).Tag(tagStripe).Err(err).Warn(\"Failed to handle subscription deletion\")"),
            ('+', "\t\t}"),
            ('+', "\t\treturn nil"),
        ]);
        assert_eq!(review(&logged).iter().map(|r| r.0).collect::<Vec<_>>(), ["WH010"]);
        // ... or still returned after logging: quiet.
        let kept = hunk(&[
            ('-', "\t\treturn s.handleSubscriptionDeleted(r, v, event)"),
            ('+', "\t\tif err := s.handleSubscriptionDeleted(r, v, event); err != nil {"),
            ('+', "\t\t\tlog.Printf(\"failed: %v\", err)"),
            ('+', "\t\t\treturn err"),
            ('+', "\t\t}"),
            ('+', "\t\treturn nil"),
        ]);
        assert!(review(&kept).is_empty());
        // Rewrapped, still an error: quiet.
        let rewrapped = hunk(&[(' ', "\tif err != nil {"), ('-', "\t\treturn err"), ('+', "\t\treturn fmt.Errorf(\"handle: %w\", err)"), (' ', "\t}")]);
        assert!(review(&rewrapped).is_empty());
    }
}
