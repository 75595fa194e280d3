//! Two pieces of work side by side.

/// Runs `a` on this thread and `b` on another when `parallel`, one after the
/// other otherwise. A panic in `b` resumes here, as if `b` had run here.
pub fn join<A: Send, B: Send>(parallel: bool, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let b = scope.spawn(b);
        let a = a();
        (a, b.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}
