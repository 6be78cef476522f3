//! `medaudit-fake-server --port P --latency-ms N`: the fake server as a process, for
//! `bench/engine.sh`. Prints `listening on http://127.0.0.1:P/v1` and serves until killed.

use std::time::Duration;

fn main() -> std::io::Result<()> {
    let arguments: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        arguments.iter().position(|argument| argument == flag).and_then(|index| arguments.get(index + 1)).and_then(|text| text.parse::<u64>().ok())
    };
    let port = value("--port").unwrap_or(0) as u16;
    let latency = Duration::from_millis(value("--latency-ms").unwrap_or(0));
    let threads = value("--threads").unwrap_or(1) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(threads.max(1)).enable_all().build()?;
    runtime.block_on(async move {
        let server = medaudit_fakeserver::start(port, medaudit_fakeserver::Behaviour { latency, ..Default::default() }).await?;
        println!("listening on {}", server.base_url());
        std::future::pending::<()>().await;
        Ok(())
    })
}
