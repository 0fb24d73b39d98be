-- Tests of {{name}}, run by `modhost test` (`modhost test --watch` reruns them on every save).
-- This file runs in a fresh instance of the mod, after init.lua; none of its hooks has run.
-- `require("init")` is the table init.lua returned. `modhost.test` has a virtual clock,
-- events and game mocks.
local mod = require("init")

describe("hello", function()
  it("greets by name and counts", function()
    expect(mod.hello("Ada")).toBe(modhost.settings.greeting .. ", Ada! (greeting number 1)")
    expect(mod.hello("Grace")).toBe(modhost.settings.greeting .. ", Grace! (greeting number 2)")
  end)
end)

describe("onBootstrap", function()
  it("tells the other mods it is ready", function()
    mod.onBootstrap()
    expect(modhost.test.emitted("{{id}}:ready")).toEqual({ { greeting = modhost.settings.greeting } })
  end)
end)
