//! The token TCP clients send in `initialize`: made at random for each host, written where
//! only the user can read it (`<data_dir>/modhost.token`).

/// A new random token for TCP clients, as hex.
pub fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Writes the token to `path`, readable by the current user only. Whatever was at `path` is
/// removed first (a link is removed, not followed) and the file is created anew, so the token
/// never lands in another file, nor in one someone else could read.
pub fn write_token(path: &std::path::Path, token: &str) -> std::io::Result<()> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        crate::data_dir::ensure_private(parent)?;
    }
    use std::io::Write;
    crate::data_dir::create_private_file(path)?.write_all(token.as_bytes())
}
