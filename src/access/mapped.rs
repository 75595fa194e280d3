//! A fixture file mapped into memory instead of read.
//!
//! Reading copies every byte of a large export from the page cache into a
//! buffer, and faults in the buffer's pages as it goes; a mapping lets the
//! parsers read the page cache directly. The pages already parsed are handed
//! back as the parse moves on ([`MappedFile::release_before`]), so the peak
//! memory stays what it is when reading block by block.
//!
//! The catch: a file truncated by another process while it is mapped makes
//! the next access to a lost page a SIGBUS, which ends the process. That is
//! acceptable for a one-shot CLI run (ripgrep makes the same choice), not for
//! the long-lived MCP server, which reads instead
//! ([`super::AccessRequest::map_files`]).

use std::fs::File;
use std::sync::atomic::{AtomicUsize, Ordering};

use memmap2::Mmap;

/// Files smaller than this are read: mapping costs more than it saves.
pub const MIN_MAPPED_LEN: u64 = 1 << 20;

pub struct MappedFile {
    map: Mmap,
    /// Bytes before this offset (a page boundary) have been released.
    released: AtomicUsize,
    page: usize,
}

impl MappedFile {
    /// Maps `file` for reading, or `None` when the system will not map it
    /// (the caller reads it instead).
    pub fn map(file: &File) -> Option<MappedFile> {
        // SAFETY: the mapping is only ever read. Its contents change only if
        // another process writes the file meanwhile, the general caveat of
        // a mapping, described in the module documentation.
        let map = unsafe { Mmap::map(file) }.ok()?;
        #[cfg(unix)]
        // Sequential hints double the kernel's read-ahead for a file not yet cached.
        let _ = map.advise(memmap2::Advice::Sequential);
        Some(MappedFile { map, released: AtomicUsize::new(0), page: page_size() })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Hands back the whole pages before `offset`: the parse is done with
    /// them. They leave this process's resident memory (the kernel keeps
    /// them in its page cache), and would be read again from the file if
    /// touched, so releasing too much costs time, never correctness.
    pub fn release_before(&self, offset: u64) {
        let end = usize::try_from(offset).unwrap_or(usize::MAX).min(self.map.len()) / self.page * self.page;
        let start = self.released.load(Ordering::Relaxed);
        if end <= start {
            return;
        }
        self.released.store(end, Ordering::Relaxed);
        // Elsewhere the pages stay mapped until the end of the read.
        #[cfg(unix)]
        // SAFETY: MADV_DONTNEED on a read-only shared file mapping drops the
        // page table entries only; a later read faults the same file
        // contents back in. Nothing can observe a difference except timing.
        let _ = unsafe { self.map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start) };
    }
}

#[cfg(unix)]
fn page_size() -> usize {
    // SAFETY: sysconf only reads a system constant.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok().filter(|&p| p > 0).unwrap_or(4096)
}

#[cfg(not(unix))]
fn page_size() -> usize {
    4096
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn released_pages_read_back_the_same_bytes() {
        let mut file = tempfile::tempfile().unwrap();
        let text: Vec<u8> = (0..(3 << 20)).map(|i: u32| (i % 251) as u8).collect();
        file.write_all(&text).unwrap();
        let mapped = MappedFile::map(&file).unwrap();
        assert_eq!(mapped.bytes(), &text[..]);
        mapped.release_before(1 << 20);
        mapped.release_before(100); // behind what was released: nothing to do
        mapped.release_before(u64::MAX);
        assert_eq!(mapped.bytes(), &text[..], "released pages fault back in from the file");
    }
}
