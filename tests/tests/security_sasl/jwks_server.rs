//! A JWKS endpoint for the tests: a plain HTTP/1.1 server on 127.0.0.1 that
//! answers every GET with the document it is set to serve (or a 500), and
//! counts the requests, so a test sees when the agent fetched.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the endpoint answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with this JSON.
    Jwks(String),
    /// 500.
    Failure,
}

/// The endpoint; it serves until the test process ends.
#[derive(Debug, Clone)]
pub struct JwksServer {
    addr: SocketAddr,
    answer: Arc<Mutex<Answer>>,
    requests: Arc<AtomicUsize>,
}

impl JwksServer {
    /// Serves `jwks` on a free port.
    pub fn start(jwks: String) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let server = JwksServer {
            addr: listener.local_addr().expect("addr"),
            answer: Arc::new(Mutex::new(Answer::Jwks(jwks))),
            requests: Arc::new(AtomicUsize::new(0)),
        };
        let serving = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serving.answer(stream);
            }
        });
        server
    }

    /// The URL of the JWKS.
    pub fn url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    /// Serves `answer` from now on.
    pub fn set(&self, answer: Answer) {
        *self.answer.lock().expect("lock") = answer;
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn answer(&self, stream: TcpStream) {
        let mut reader = BufReader::new(&stream);
        // The request line and headers, up to the blank line.
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" || line == "\n" => break,
                Ok(_) => {}
            }
        }
        let answer = self.answer.lock().expect("lock").clone();
        let (status, body) = match answer {
            Answer::Jwks(json) => ("200 OK", json),
            Answer::Failure => ("500 Internal Server Error", "down".to_string()),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        self.requests.fetch_add(1, Ordering::SeqCst);
        let _ = (&stream).write_all(response.as_bytes());
    }
}
