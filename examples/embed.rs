//! Embedding modhost in a game: the Orc Arena demo pack (`examples/arena/`) in a small game
//! loop. The game answers `world.spawn` and `player.name` with closures, sends a `tick` event
//! every frame, drains the `scored` events mods send back, changes a mod's setting while it
//! runs, and disables and re-enables a mod. Run with `cargo run --example embed`.

use std::cell::Cell;
use std::rc::Rc;

use modhost::value;
use modhost::{Config, Host, Pack};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Log what the mods print to stderr, as the `modhost` binary does.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();

    // No file in the working directory is read: the game says where everything is.
    let arena = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/arena");
    let mut config = Config::new(arena.join("mods")).with_api_file(&arena.join("game-api.json"))?;
    config.data_dir = std::env::temp_dir().join("modhost-embed-example");
    let pack = Pack::load(&config)?;
    for diagnostic in pack.diagnostics.iter().filter(|d| d.is_error()) {
        eprintln!("pack problem: {}", diagnostic.message);
    }

    let host = Host::new(pack, config);
    // The game's side of its API: each closure gets the calling mod and checked arguments.
    let next_id = Rc::new(Cell::new(100));
    let ids = Rc::clone(&next_id);
    host.provide("world.spawn", move |mod_id, args| {
        ids.set(ids.get() + 1);
        println!(
            "game: {mod_id} spawns a {} at {}",
            args[0],
            args.get(1).unwrap_or(&value!("the gate"))
        );
        Ok(value!(ids.get()))
    })?;
    host.provide("player.name", |_, _| Ok(value!("Ada")))?;
    host.start();

    let mut score = 0;
    for frame in 1..=9 {
        if frame == 4 {
            // A live setting change: `arena` runs `onSettingsChanged` and keeps its state.
            host.set_setting("arena", "spawn_every", value!(2))?;
        }
        if frame == 6 {
            host.disable("tourist")?;
        }
        if frame == 8 {
            host.enable("tourist")?;
        }
        host.emit("tick", value!({ "frame": frame, "dt": 0.016 }))?;
        host.run_due_timers();
        for event in host.take_game_events() {
            if event.event == "scored" {
                score += event.payload["points"].as_i64().unwrap_or(0);
                println!("game: {} scored, total {score}", event.mod_id);
            }
        }
    }
    println!(
        "arena spawned {} orcs",
        host.call("arena", "spawnedSoFar", &[])?
    );
    for status in host.mods() {
        println!("{} {} is {}", status.id, status.version, status.state);
    }
    host.shutdown();
    Ok(())
}
