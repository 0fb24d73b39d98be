// Tests of {{name}}, run by `modhost test` (`modhost test --watch` reruns them on every save).
// This file runs in a fresh instance of the mod, after main.js, whose functions are globals
// here; none of its hooks has run. `modhost.test` has a virtual clock, events and game mocks.

describe("hello", () => {
  it("greets by name and counts", () => {
    expect(hello("Ada")).toBe(`${modhost.settings.greeting}, Ada! (greeting number 1)`);
    expect(hello("Grace")).toBe(`${modhost.settings.greeting}, Grace! (greeting number 2)`);
  });
});

describe("onBootstrap", () => {
  it("tells the other mods it is ready", () => {
    onBootstrap();
    expect(modhost.test.emitted("{{id}}:ready")).toEqual([{ greeting: modhost.settings.greeting }]);
  });
});
