//! Embedding modhost in a game: load the example pack, start it, call into a mod, emit an
//! event the mods listen to, and shut down. Run with `cargo run --example embed`.

use modhost::config::Overrides;
use modhost::{Config, Host, Pack};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Log what the mods print to stderr, as the `modhost` binary does.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(&Overrides {
        config_file: Some(root.join("config.toml")),
        mods_dir: Some(root.join("mods")),
        ..Overrides::default()
    })?;
    let pack = Pack::load(&config)?;
    for diagnostic in pack.diagnostics.iter().filter(|d| d.is_error()) {
        eprintln!("pack problem: {}", diagnostic.message);
    }

    let host = Host::new(pack, config);
    host.start();

    let info = host.call("my-mod", "getModInfo", &[])?;
    println!("my-mod says it is {info}");
    let doubled = host.call("core-lib", "double", &[json!(21)])?;
    println!("core-lib doubles 21 into {doubled}");

    // Mods subscribed with `modhost.events.on("greeting", …)` receive this.
    host.emit("greeting", json!({ "from": "the game", "text": "welcome" }))?;

    for status in host.mods() {
        println!("{} {} is {}", status.id, status.version, status.state);
    }
    host.shutdown();
    Ok(())
}
