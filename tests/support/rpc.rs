//! A JSON-RPC client for tests: drives a real `modhost` over real pipes or sockets, answers
//! its `game/call` requests with a closure, and keeps every notification it sends.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};

use serde_json::{Value, json};

use super::PATIENCE;

/// Answers a `game/call`: `(function, args, mod)` to a result or an error message.
pub type Answer = Box<dyn FnMut(&str, &[Value], &str) -> Result<Value, String> + Send>;

pub struct Rpc {
    writer: Box<dyn Write + Send>,
    lines: Receiver<Option<String>>,
    next_id: u64,
    /// Every notification received, as `(method, params)`.
    pub notifications: Vec<(String, Value)>,
    /// Every `game/call` received, as its params.
    pub game_calls: Vec<Value>,
    /// The ids of the `game/call` requests left unanswered (the answer said `SILENCE`).
    pub held: Vec<Value>,
    /// Messages read while waiting for something else, in order.
    early: std::collections::VecDeque<Value>,
    pub answer: Answer,
}

impl Rpc {
    pub fn new(reader: impl Read + Send + 'static, writer: impl Write + Send + 'static) -> Rpc {
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                if sender.send(Some(line)).is_err() {
                    return;
                }
            }
            let _ = sender.send(None);
        });
        Rpc {
            writer: Box::new(writer),
            lines,
            next_id: 1,
            notifications: Vec::new(),
            game_calls: Vec::new(),
            held: Vec::new(),
            early: std::collections::VecDeque::new(),
            answer: Box::new(|function, _, _| {
                Err(format!("the test does not answer `{function}`"))
            }),
        }
    }

    /// Writes raw bytes, for malformed input.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
        self.writer.flush().expect("flush");
    }

    pub fn send(&mut self, message: &Value) {
        let mut bytes = message.to_string().into_bytes();
        bytes.push(b'\n');
        self.send_raw(&bytes);
    }

    /// The next message modhost sends, answering `game/call` requests on the way;
    /// `None` once the stream ended.
    pub fn next_message(&mut self) -> Option<Value> {
        if let Some(early) = self.early.pop_front() {
            return Some(early);
        }
        loop {
            match self.receive()? {
                Some(message) => return Some(message),
                None => continue,
            }
        }
    }

    /// Reads until modhost sends a `game/call` that the answer holds (`SILENCE`); other
    /// messages on the way are kept for [`Rpc::next_message`].
    pub fn wait_for_held(&mut self) {
        let before = self.held.len();
        while self.held.len() == before {
            match self.receive() {
                Some(Some(message)) => self.early.push_back(message),
                Some(None) => {}
                None => panic!("modhost closed the stream before calling the game"),
            }
        }
    }

    /// One line from modhost: a `game/call` or a notification is handled here (`Some(None)`),
    /// anything else returned; `None` once the stream ended.
    fn receive(&mut self) -> Option<Option<Value>> {
        let line = match self.lines.recv_timeout(PATIENCE) {
            Ok(Some(line)) => line,
            Ok(None) | Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => panic!("modhost said nothing for {PATIENCE:?}"),
        };
        let message: Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
        if message["method"] == "game/call" {
            let params = message["params"].clone();
            self.game_calls.push(params.clone());
            let args: Vec<Value> = params["args"].as_array().cloned().unwrap_or_default();
            let function = params["function"].as_str().unwrap_or_default().to_owned();
            let calling = params["mod"].as_str().unwrap_or_default().to_owned();
            match (self.answer)(&function, &args, &calling) {
                Ok(result) => self.send(&json!({ "jsonrpc": "2.0", "id": message["id"], "result": result })),
                Err(error) if error == "SILENCE" => self.held.push(message["id"].clone()),
                Err(error) => self.send(&json!({ "jsonrpc": "2.0", "id": message["id"], "error": { "code": -32000, "message": error } })),
            }
            return Some(None);
        }
        if message.get("method").is_some() && message.get("id").is_none() {
            self.notifications.push((
                message["method"].as_str().unwrap_or_default().to_owned(),
                message["params"].clone(),
            ));
            return Some(None);
        }
        Some(Some(message))
    }

    /// Answers every held `game/call` with `result`.
    pub fn release(&mut self, result: Value) {
        for id in std::mem::take(&mut self.held) {
            self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": result }));
        }
    }

    /// Reads messages until the response to request `id` (sent earlier with [`Rpc::send`]).
    pub fn response_to(&mut self, id: u64) -> Value {
        loop {
            let message = self
                .next_message()
                .unwrap_or_else(|| panic!("modhost closed the stream before answering {id}"));
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self
                .next_message()
                .unwrap_or_else(|| panic!("modhost closed the stream before answering `{method}`"));
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// A request's result; panics on an error.
    pub fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(
            response.get("error").is_none(),
            "`{method}` failed: {response}"
        );
        response["result"].clone()
    }

    /// A request's error; panics on a result.
    pub fn error(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(
            response.get("result").is_none(),
            "`{method}` should fail: {response}"
        );
        response["error"].clone()
    }

    /// `initialize` with these extra params.
    pub fn initialize(&mut self, params: Value) -> Value {
        self.result("initialize", params)
    }

    /// The notifications with this method received so far.
    pub fn notified(&self, method: &str) -> Vec<&Value> {
        self.notifications
            .iter()
            .filter(|(name, _)| name == method)
            .map(|(_, params)| params)
            .collect()
    }

    /// Closes the writing side (stdin of a `--stdio` host).
    pub fn close(&mut self) {
        self.writer = Box::new(std::io::sink());
    }
}
