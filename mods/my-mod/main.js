// The seed example mod. Hooks are global functions; every one is optional.

function onAttach() {
  console.log("My mod attached");
}

function onBootstrap() {
  console.log("My mod bootstrapped");
}

function getModInfo() {
  return "My Awesome Mod v1.0";
}
