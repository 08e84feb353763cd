/**
 * Lua shared by the write script: error replies, the checks of numbers and aggregates (written
 * inline: a Lua call per value costs more than the check), JSON decoding that never raises, and the
 * one merge of an aggregate into another (the wire form, field names from `codec.ts`).
 */
import { WIRE_KEYS as W } from './codec.js';
import { SCRIPT_CORRUPT, SCRIPT_INVALID } from './failures.js';

export const LUA_CHECKS = `
local function corrupt(key, why) return redis.error_reply('${SCRIPT_CORRUPT} ' .. key .. ' ' .. why) end
local function invalid(why) return redis.error_reply('${SCRIPT_INVALID} ' .. why) end
local huge = math.huge
-- A whole number as digits (tostring would write 1.7e+12).
local function fmtInt(n) return string.format('%d', n) end
local function finite(v) return type(v) == 'number' and v > -huge and v < huge end
local function count(v) return type(v) == 'number' and v >= 0 and v < huge end
local function whole(v) return type(v) == 'number' and v >= 0 and v < huge and v % 1 == 0 end
-- Every value a finite count.
local function counts(t)
  if type(t) ~= 'table' then return false end
  for _, c in pairs(t) do
    if type(c) ~= 'number' or not (c >= 0 and c < huge) then return false end
  end
  return true
end
-- Only the entries of stored table t that delta d adds to must be numbers.
local function addable(t, d)
  if type(t) ~= 'table' then return false end
  for key, _ in pairs(d) do
    local v = t[key]
    if v ~= nil and type(v) ~= 'number' then return false end
  end
  return true
end
-- The scalar fields of an aggregate in the wire form.
local function scalars(a)
  if type(a) ~= 'table' then return false end
  if not (whole(a.${W.events}) and whole(a.${W.errors}) and count(a.${W.durSum}) and whole(a.${W.durCount})) then return false end
  if a.${W.durCount} > 0 and not (count(a.${W.durMin}) and count(a.${W.durMax})) then return false end
  if a.${W.firstAt} ~= nil and not finite(a.${W.firstAt}) then return false end
  if a.${W.lastAt} ~= nil and not finite(a.${W.lastAt}) then return false end
  return true
end
-- A whole aggregate checked (our input, or a stored one added in full elsewhere).
local function delta(a)
  return scalars(a) and counts(a.${W.kinds}) and counts(a.${W.hist})
end
-- A stored aggregate about to receive d: its scalars and what d adds to.
local function receives(r, d)
  return scalars(r) and addable(r.${W.kinds}, d.${W.kinds}) and addable(r.${W.hist}, d.${W.hist})
end
local function decode(text)
  local ok, v = pcall(cjson.decode, text)
  if ok then return v end
  return nil
end
-- An empty rollup of the bucket starting at t.
local function emptyRollup(t)
  return { t = t, ${W.events} = 0, ${W.errors} = 0, ${W.kinds} = {}, ${W.durSum} = 0, ${W.durCount} = 0, ${W.hist} = {} }
end
-- Adds aggregate d into r (both checked).
local function merge(r, d)
  r.${W.events} = r.${W.events} + d.${W.events}
  r.${W.errors} = r.${W.errors} + d.${W.errors}
  for kind, c in pairs(d.${W.kinds}) do r.${W.kinds}[kind] = (r.${W.kinds}[kind] or 0) + c end
  if d.${W.durCount} > 0 then
    if r.${W.durCount} == 0 or d.${W.durMin} < r.${W.durMin} then r.${W.durMin} = d.${W.durMin} end
    if r.${W.durCount} == 0 or d.${W.durMax} > r.${W.durMax} then r.${W.durMax} = d.${W.durMax} end
    r.${W.durSum} = r.${W.durSum} + d.${W.durSum}
    r.${W.durCount} = r.${W.durCount} + d.${W.durCount}
    for b, c in pairs(d.${W.hist}) do r.${W.hist}[b] = (r.${W.hist}[b] or 0) + c end
  end
end
`;
