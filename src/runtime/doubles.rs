//! The game's functions as a `modhost test` file sees them, in every language: the mocks a
//! test put in place and the arguments of every game call the mod made. A name that is no
//! function of the game's API is refused, with the likely spelling, rather than kept as a mock
//! that never answers.

use std::cell::RefCell;
use std::collections::HashMap;

use super::{GameGlobal, Json};

/// The doubles of one mod's game calls; `F` is its engine's function handle.
pub(crate) struct GameDoubles<F> {
    /// The dotted names of the game's functions (none without a game API).
    functions: Vec<String>,
    mocks: RefCell<HashMap<String, F>>,
    calls: RefCell<HashMap<String, Vec<Json>>>,
}

impl<F: Clone> GameDoubles<F> {
    pub(crate) fn new(game: Option<&GameGlobal>) -> GameDoubles<F> {
        GameDoubles {
            functions: game.map(|game| game.functions.clone()).unwrap_or_default(),
            mocks: RefCell::new(HashMap::new()),
            calls: RefCell::new(HashMap::new()),
        }
    }

    /// `modhost.test.mock(name, answer)`.
    pub(crate) fn mock(&self, name: String, answer: F) -> Result<(), String> {
        self.known(&name, "mock")?;
        self.mocks.borrow_mut().insert(name, answer);
        Ok(())
    }

    /// `modhost.test.calls(name)`: each call's arguments, oldest first.
    pub(crate) fn calls(&self, name: &str) -> Result<Vec<Json>, String> {
        self.known(name, "calls")?;
        Ok(self.calls.borrow().get(name).cloned().unwrap_or_default())
    }

    /// Records a game call; the mock that answers it, if the test put one in place.
    pub(crate) fn called(&self, function: &str, args: &[Json]) -> Option<F> {
        self.calls
            .borrow_mut()
            .entry(function.to_owned())
            .or_default()
            .push(Json::Array(args.to_vec()));
        self.mocks.borrow().get(function).cloned()
    }

    /// Forgets the mocks (before the engine goes: handles must not outlive it).
    pub(crate) fn clear(&self) {
        self.mocks.borrow_mut().clear();
    }

    fn known(&self, name: &str, what: &str) -> Result<(), String> {
        if self.functions.iter().any(|function| function == name) {
            return Ok(());
        }
        let listed = crate::suggest::did_you_mean_or_list(
            name,
            self.functions.iter().map(String::as_str),
            |names| format!("the game's functions are {names}"),
            "no game API is configured (`api` in `config.toml`), so there is no game function",
        );
        Err(format!(
            "modhost.test.{what}: `{name}` is not a function of the game's API; {listed}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{GameDoubles, GameGlobal};

    #[test]
    fn only_the_game_functions_can_be_mocked_and_every_call_is_kept() {
        let game = GameGlobal {
            name: "game".to_owned(),
            functions: vec!["world.spawn".to_owned(), "player.name".to_owned()],
        };
        let doubles = GameDoubles::new(Some(&game));
        assert_eq!(
            doubles.mock("world.spwan".to_owned(), 1),
            Err("modhost.test.mock: `world.spwan` is not a function of the game's API; did you mean `world.spawn`?".to_owned())
        );
        assert!(
            doubles
                .calls("sky")
                .unwrap_err()
                .ends_with("the game's functions are `world.spawn`, `player.name`")
        );
        assert_eq!(doubles.called("world.spawn", &[crate::value!("orc")]), None);
        doubles.mock("world.spawn".to_owned(), 7).unwrap();
        assert_eq!(
            doubles.called("world.spawn", &[crate::value!("imp")]),
            Some(7)
        );
        assert_eq!(
            doubles.calls("world.spawn").unwrap(),
            [crate::value!(["orc"]), crate::value!(["imp"])]
        );
        let without_api = GameDoubles::<i32>::new(None);
        assert!(
            without_api
                .mock("x".to_owned(), 1)
                .unwrap_err()
                .contains("no game API is configured")
        );
    }
}
