-- The test API of `modhost test` (SPEC section 14) for Lua test files: describe, it (and test),
-- beforeEach, afterEach and expect, under the same names as in JavaScript
-- (`expect(x).toBe(3)`). The host runs this chunk with the test file's chunk name; it returns
-- the function that runs the tests: one `{ name, passed, line, ms, message?, expected?,
-- actual?, failureLine? }` per test. `progress(kind, value)` tells the host how far the run is,
-- so a test that never ends is named.
local file, progress = ...
local prefix = file:sub(2) .. ":"
local scopes = { { name = "", before = {}, after = {} } }
local tests = {}

-- The line in the test file of the first frame, from the innermost, that is in it.
local function line_here()
  for level = 3, 12 do
    local _, where = pcall(error, "", level)
    if type(where) == "string" and where:sub(1, #prefix) == prefix then
      return tonumber(where:match(":(%d+):", #prefix))
    end
  end
  return nil
end

local function line_of(message)
  if type(message) == "string" and message:sub(1, #prefix) == prefix then
    return tonumber(message:match(":(%d+):", #prefix))
  end
  return nil
end

local function show(value, depth)
  depth = depth or 0
  if type(value) == "string" then return string.format("%q", value) end
  if type(value) ~= "table" then return tostring(value) end
  if depth > 4 then return "{...}" end
  local keys = {}
  for key in pairs(value) do keys[#keys + 1] = key end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, key in ipairs(keys) do
    local shown = show(value[key], depth + 1)
    if type(key) == "number" and key == math.floor(key) and key >= 1 and key <= #value then
      parts[#parts + 1] = shown
    else
      parts[#parts + 1] = tostring(key) .. " = " .. shown
    end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for key, value in pairs(a) do
    if not deep_equal(value, b[key]) then return false end
  end
  for key in pairs(b) do
    if a[key] == nil then return false end
  end
  return true
end

local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(failure) return failure.message end

local function fail(message, expected, actual)
  error(setmetatable({ message = message, expected = expected, actual = actual, line = line_here() }, Failure), 0)
end

function describe(name, body)
  scopes[#scopes + 1] = { name = tostring(name), before = {}, after = {} }
  local ok, problem = pcall(body)
  scopes[#scopes] = nil
  if not ok then error(problem, 0) end
end

function it(name, body)
  local path = {}
  for index = 2, #scopes do path[#path + 1] = scopes[index].name end
  path[#path + 1] = tostring(name)
  local captured = {}
  for index = 1, #scopes do captured[index] = scopes[index] end
  tests[#tests + 1] = { name = table.concat(path, " > "), body = body, line = line_here(), scopes = captured }
end
test = it

function beforeEach(hook) local scope = scopes[#scopes]; scope.before[#scope.before + 1] = hook end
function afterEach(hook) local scope = scopes[#scopes]; scope.after[#scope.after + 1] = hook end

function expect(actual)
  return {
    toBe = function(expected)
      if actual ~= expected then
        fail("expected " .. show(actual) .. " to be " .. show(expected), show(expected), show(actual))
      end
    end,
    toEqual = function(expected)
      if not deep_equal(actual, expected) then
        fail("expected " .. show(actual) .. " to equal " .. show(expected), show(expected), show(actual))
      end
    end,
    toBeTruthy = function()
      if not actual then fail("expected " .. show(actual) .. " to be truthy", "a truthy value", show(actual)) end
    end,
    toThrow = function(text)
      if type(actual) ~= "function" then fail("expect(...).toThrow() needs a function to call", text, show(actual)) end
      local ok, problem = pcall(actual)
      local wanted = text == nil and "an error" or text
      if ok then fail("expected the function to throw " .. show(wanted), show(wanted), "nothing thrown") end
      local message = tostring(problem)
      if text ~= nil and not message:find(text, 1, true) then
        fail("expected the error " .. show(message) .. " to contain " .. show(text), show(text), show(message))
      end
    end,
  }
end

local function failure(result, problem)
  result.passed = false
  if getmetatable(problem) == Failure then
    result.message = problem.message
    result.expected = problem.expected
    result.actual = problem.actual
    result.failureLine = problem.line
  else
    result.message = tostring(problem)
    result.failureLine = line_of(problem)
  end
end

return function(grep)
  local results = {}
  local selected = {}
  for _, case in ipairs(tests) do
    if grep == nil or case.name:find(grep, 1, true) then selected[#selected + 1] = case end
  end
  progress("planned", #selected)
  for _, case in ipairs(selected) do
    progress("started", { name = case.name, line = case.line })
    local started = os.clock()
    local result = { name = case.name, passed = true, line = case.line }
    local ok, problem = pcall(function()
      for _, scope in ipairs(case.scopes) do
        for _, hook in ipairs(scope.before) do hook() end
      end
      case.body()
    end)
    if not ok then failure(result, problem) end
    ok, problem = pcall(function()
      for index = #case.scopes, 1, -1 do
        for _, hook in ipairs(case.scopes[index].after) do hook() end
      end
    end)
    if not ok and result.passed then failure(result, problem) end
    result.ms = math.floor((os.clock() - started) * 1000)
    results[#results + 1] = result
    progress("finished", result)
  end
  return results
end
