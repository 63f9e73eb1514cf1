//! What the fuzz targets share.

/// The most a message built from untrusted input may hold: generous, but a message that
/// echoes a whole event or answer back does not fit.
pub const MAX_MESSAGE: usize = 8 * 1024;

/// Asserts that `message` fits [`MAX_MESSAGE`].
pub fn assert_bounded(what: &str, message: &str) {
    if message.len() <= MAX_MESSAGE {
        return;
    }
    panic!(
        "{what}: a message of {} bytes (cap {MAX_MESSAGE}), starting {:?}",
        message.len(),
        message.chars().take(200).collect::<String>()
    );
}
