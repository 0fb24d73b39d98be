//! Where `modhost run` accepts games and `modhost ctl` (`listen`, `--listen`), and the files a
//! listening host keeps in its data dir.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where `modhost run` accepts connections (`listen` in `config.toml`, `--listen`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// The local socket `<data_dir>/modhost.sock`.
    Default,
    /// Not at all.
    None,
    /// A local socket (a Unix domain socket; a named pipe on Windows) at this path.
    Local(PathBuf),
    /// TCP on a loopback address; clients must send the token.
    Tcp(SocketAddr),
}

impl Listen {
    /// Parses `default`, `none`, `tcp:127.0.0.1:PORT` or a socket path.
    pub fn parse(text: &str) -> Result<Listen, String> {
        match text {
            "default" => Ok(Listen::Default),
            "none" => Ok(Listen::None),
            "" => Err(
                "an empty address; use `default`, `none`, a socket path or `tcp:127.0.0.1:PORT`"
                    .to_owned(),
            ),
            _ => match text.strip_prefix("tcp:") {
                Some(address) => {
                    let address: SocketAddr = address.parse().map_err(|_| {
                        format!("`{address}` is not an address and port such as `127.0.0.1:7400`")
                    })?;
                    if !address.ip().is_loopback() {
                        return Err(format!(
                            "`{}` is not a loopback address: modhost only listens on this machine (127.0.0.1 or [::1])",
                            address.ip()
                        ));
                    }
                    Ok(Listen::Tcp(address))
                }
                None => Ok(Listen::Local(PathBuf::from(text))),
            },
        }
    }

    /// The local socket path this resolves to, for `Default` and `Local`.
    pub fn socket_path(&self, data_dir: &Path) -> Option<PathBuf> {
        match self {
            Listen::Default => Some(data_dir.join(SOCKET_FILE)),
            Listen::Local(path) => Some(path.clone()),
            Listen::None | Listen::Tcp(_) => None,
        }
    }
}

/// The local socket of a running host, in its data dir.
pub(super) const SOCKET_FILE: &str = "modhost.sock";
/// The token TCP clients must send, in the data dir.
pub const TOKEN_FILE: &str = "modhost.token";
