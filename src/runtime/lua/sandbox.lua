-- The sandbox's Lua side, run once in every mod's state before the mod's code: it replaces the
-- base library functions that need the host's rules and returns the helpers the host builds
-- the `modhost` API with. One chunk, so a mod's start loads one piece of bytecode and makes
-- one call into Lua for all of it (each call from the host into Lua has a cost of its own).
-- The host's natives come as arguments, in this order (a table of them would be one more
-- call from Rust into Lua for each).
local globals, describe, level_of, caught, protected, rawset_unless_read_only, missing_member,
  marker = ...
local type, select, next, tostring = type, select, next, tostring
local getmetatable, setmetatable, rawget, rawset, rawlen = getmetatable, setmetatable, rawget, rawset, rawlen
local pcall, xpcall, load, coroutine, string = pcall, xpcall, load, coroutine, string
local original_error = error

-- `error({ code = 42 })` would reach the host as `table: 0x…`: a raised table without a
-- metatable gets a `__tostring` that shows it as JSON.
local function error(value, level)
  if type(value) == "table" and getmetatable(value) == nil then
    setmetatable(value, { __tostring = describe })
  end
  -- The level as the mod means it, without this wrapper or the host's other wrappers.
  original_error(value, level_of(level or 1))
end
globals.error = error

-- The time limit stops a call by raising an error from the instruction hook, which `pcall`,
-- `xpcall` and `coroutine.resume` could catch (`while true do pcall(f) end` would never end):
-- they raise it again once the call has been stopped, so it unwinds to the host. They also
-- give the mod an error a native function raised as its message string, as Lua's C functions do.
local resume = coroutine.resume
local function check(ok, ...)
  if ok then return ok, ... end
  local stopped, seen = caught((...))
  if stopped then error("the call was stopped for breaking a limit", 0) end
  return false, seen
end
-- The argument checks Lua's own functions make, with their messages (these wrappers'
-- frames are not counted by `error`'s levels, so the caller is blamed, as in Lua).
local function expect(kind, position, name, count, value)
  if type(value) ~= kind then
    local got = count < position and "no value" or type(value)
    error("bad argument #" .. position .. " to '" .. name .. "' (" .. kind .. " expected, got " .. got .. ")")
  end
end
globals.pcall = function(...)
  if select('#', ...) == 0 then error("bad argument #1 to 'pcall' (value expected)") end
  return check(pcall(...))
end
-- Lua calls the message handler of an error raised by the time limit's hook with hooks off:
-- once the call is stopped, the mod's handler is not called at all.
globals.xpcall = function(...)
  local f, handler = ...
  expect("function", 2, "xpcall", select('#', ...), handler)
  return check(xpcall(f, function(message)
    local stopped, seen = caught(message)
    if stopped then return message end
    return handler(seen)
  end, select(3, ...)))
end
coroutine.resume = function(...)
  expect("thread", 1, "resume", select('#', ...), (...))
  return check(resume(...))
end

-- Lua runs finalizers (`__gc`) with hooks off, where no time limit reaches them, so a
-- metatable with `__gc` is refused; Lua marks an object for finalization only if its
-- metatable has `__gc` when `setmetatable` is called, so checking here is exact.
globals.setmetatable = function(...)
  local object, metatable = ...
  -- Lua's own checks, with its messages (this frame is not counted by `error`'s levels).
  if type(object) ~= "table" then
    local got = select('#', ...) == 0 and "no value" or type(object)
    error("bad argument #1 to 'setmetatable' (table expected, got " .. got .. ")")
  end
  if metatable ~= nil and type(metatable) ~= "table" then
    local got = select('#', ...) < 2 and "no value" or type(metatable)
    error("bad argument #2 to 'setmetatable' (nil or table expected, got " .. got .. ")")
  end
  if protected(object) then error("cannot change a protected metatable") end
  if type(metatable) == "table" and rawget(metatable, "__gc") ~= nil then
    error("`__gc` finalizers are not allowed in mods: Lua runs them where no time limit reaches; release resources in `onDetach` instead")
  end
  return setmetatable(object, metatable)
end

-- `rawset` may not write into the host's read-only proxies.
globals.rawset = function(table, key, value)
  local ok, result = rawset_unless_read_only(table, key, value)
  if not ok then error("cannot set `" .. tostring(key) .. "`: this table is read-only") end
  return result
end

-- The base library's file loaders reach the file system; `load` may not load bytecode. Only
-- `env` given or not is told apart (`load(s, name, "t")` keeps the globals).
globals.dofile, globals.loadfile = nil, nil
local find, gsub = string.find, string.gsub
globals.load = function(chunk, name, mode, ...)
  if mode == nil then mode = "t" elseif find(mode, "b", 1, true) then mode = gsub(mode, "b", "") end
  return load(chunk, name, mode, ...)
end

-- Read-only proxies: reads go through to the target, writes raise an error at the writer's
-- line, `pairs` and `#` see the target (after `complete` has filled it in, if given).
local function refuse(_, key)
  error("cannot set `" .. tostring(key) .. "`: this table is read-only")
end
local function read_only(target, complete)
  return setmetatable({}, {
    __index = target,
    __newindex = refuse,
    __pairs = function()
      if complete then complete() end
      return next, target, nil
    end,
    __len = function() return rawlen(target) end,
    __metatable = false,
    [marker] = true,
  })
end

-- A native that answers `(true, value)` or `(false, message)`, made into one that raises the
-- message as a plain string error at the caller's line, as Lua's own functions do. (An error
-- returned from Rust would reach `pcall` as userdata, which `string.find` cannot read.)
local function raising(native)
  return function(...)
    local ok, value = native(...)
    if not ok then error(value) end
    return value
  end
end

-- A namespace of the API (`modhost.log`, `game.world`, …), read-only, where reading a member
-- it does not have raises naming the closest one instead of giving `nil`, which would fail
-- later as "attempt to call a nil value". Hits are plain table reads: only a miss reaches the
-- metamethod, which finds the namespace's name in its metatable. With `raises`, its functions
-- are natives that answer as `raising` takes them (its tables are namespaces already).
-- The members named after `make` are made by `make(name)` when first read, or when the
-- namespace is listed: most mods use few of `modhost`'s namespaces, and each is natives and
-- tables to make at every start.
local missing = raising(missing_member)
local function namespace(path, members, raises, make, ...)
  if raises then
    for name, member in next, members do
      if type(member) == "function" then members[name] = raising(member) end
    end
  end
  if not make then
    setmetatable(members, { __index = missing, namespace = path })
    return read_only(members)
  end
  local later = {}
  for index = 1, select('#', ...) do later[select(index, ...)] = true end
  local function made(name)
    local member = make(name)
    rawset(members, name, member)
    return member
  end
  setmetatable(members, {
    __index = function(_, key)
      if later[key] == nil then return missing(members, key) end
      return made(key)
    end,
    namespace = path,
    later = later,
  })
  return read_only(members, function()
    for name in next, later do
      if rawget(members, name) == nil then made(name) end
    end
  end)
end

-- A read-only copy of plain data (the mod's manifest, its settings), nested tables included.
local function frozen(value)
  if type(value) ~= "table" then return value end
  for key, member in next, value do
    if type(member) == "table" then value[key] = frozen(member) end
  end
  return read_only(value)
end

return read_only, raising, namespace, frozen
