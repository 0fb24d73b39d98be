//! `run --metrics ADDR`: the host's figures over HTTP at `/metrics`, for Prometheus.
//!
//! The figures are read on the host's thread when a connection arrives; a local task then reads
//! the request and writes the answer, so a slow or silent client never holds the event loop.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await
}

/// Accepts the next client, or waits forever without a listener.
pub async fn accept(listener: Option<&TcpListener>) -> std::io::Result<TcpStream> {
    match listener {
        Some(listener) => listener.accept().await.map(|(stream, _)| stream),
        None => std::future::pending().await,
    }
}

/// Answers one client with `metrics` (for `GET /metrics`) in a task of its own.
pub fn answer(mut stream: TcpStream, metrics: String) {
    tokio::task::spawn_local(async move {
        let Ok(Ok(head)) = tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut stream)).await
        else {
            return;
        };
        let request_line = head.lines().next().unwrap_or_default();
        let mut words = request_line.split_whitespace();
        let response = match (
            words.next(),
            words.next().map(|path| path.split('?').next()),
        ) {
            (Some("GET"), Some(Some("/metrics"))) => http(
                "200 OK",
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                &metrics,
            ),
            (Some("GET"), _) => http(
                "404 Not Found",
                "text/plain",
                "the metrics are at /metrics\n",
            ),
            _ => http(
                "405 Method Not Allowed",
                "text/plain",
                "only GET /metrics\n",
            ),
        };
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    });
}

async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn http(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
