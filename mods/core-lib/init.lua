-- Core library: hooks and functions are fields of the returned table.
local core = {}

function core.onAttach()
  print("core-lib attached")
end

function core.double(n)
  return n * 2
end

return core
