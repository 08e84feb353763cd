/**
 * The write script: applies one type's batch atomically and idempotently, whole or not at all.
 *
 * It runs in two phases. Phase 1 only reads: the type of every key, the batch id, the inputs
 * (every number finite and in range) and every stored value it will add to (counts are
 * integers, the histogram and rollups parse). Anything wrong ends the script with an error reply
 * before its first write: `CM_CORRUPT <key> <reason>` for stored data, `CM_INVALID <reason>` for
 * its input. Phase 2 writes, with nothing left that can fail: Redis refuses a script for lack of
 * memory (OOM) only at its first write, so even that leaves nothing half-applied.
 *
 * Field names come from `codec.ts` (`WIRE_KEYS`, `STATS_FIELDS`), so this cannot drift from the
 * code that encodes the deltas and reads the results.
 *
 * KEYS: events, stats, rollups, rollupIndex, batches.
 * ARGV: batchId, nowMs, retentionMs, n, then n (score, member) pairs, then the stats delta JSON,
 * then the rollup deltas JSON (array). Returns 1 when applied, 0 when the batch id was seen.
 */
import { MINUTE_MS } from '../core/time-series.js';
import { STATS_FIELDS as S, WIRE_KEYS as W } from './codec.js';
import { SCRIPT_CORRUPT, SCRIPT_INVALID } from './failures.js';

/** The aggregate fields every stored count must hold as a whole number. */
const INTEGER_STATS = [S.events, S.errors, S.durCount];
/** The stats fields that must hold a finite number. */
const NUMBER_STATS = [S.durSum, S.durMin, S.durMax, S.firstAt, S.lastAt];
/** The stats fields read before a write, in HMGET order. */
const READ_STATS: readonly string[] = [...INTEGER_STATS, ...NUMBER_STATS, S.hist];
/** Lua index (1-based) of a stats field in the HMGET reply. */
const at = (field: string): number => READ_STATS.indexOf(field) + 1;

export const WRITE_BATCH = `
local KEY_TYPES = { 'zset', 'hash', 'hash', 'zset', 'zset' }
local events, stats, rollups, rindex, batches = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]

local function corrupt(key, why) return redis.error_reply('${SCRIPT_CORRUPT} ' .. key .. ' ' .. why) end
local function invalid(why) return redis.error_reply('${SCRIPT_INVALID} ' .. why) end
local function finite(v) return type(v) == 'number' and v == v and v > -math.huge and v < math.huge end
local function count(v) return finite(v) and v >= 0 end
local function whole(v) return count(v) and math.floor(v) == v end
local function counts(t)
  if type(t) ~= 'table' then return false end
  for _, c in pairs(t) do if not count(c) then return false end end
  return true
end
-- An aggregate in the wire form: counts, durations, first/last, kinds and histogram.
local function aggregate(a)
  if type(a) ~= 'table' then return false end
  if not (whole(a.${W.events}) and whole(a.${W.errors}) and count(a.${W.durSum}) and whole(a.${W.durCount})) then return false end
  if a.${W.durCount} > 0 and not (count(a.${W.durMin}) and count(a.${W.durMax})) then return false end
  if a.${W.firstAt} ~= nil and not finite(a.${W.firstAt}) then return false end
  if a.${W.lastAt} ~= nil and not finite(a.${W.lastAt}) then return false end
  return counts(a.${W.kinds}) and counts(a.${W.hist})
end
local function decode(text)
  local ok, v = pcall(cjson.decode, text)
  if ok then return v end
  return nil
end

-- Phase 1: read and check, write nothing.
for i, key in ipairs(KEYS) do
  local t = redis.call('TYPE', key).ok
  if t ~= 'none' and t ~= KEY_TYPES[i] then
    return corrupt(key, 'WRONGTYPE: holds a ' .. t .. ', not a ' .. KEY_TYPES[i])
  end
end
if redis.call('ZSCORE', batches, ARGV[1]) then return 0 end
local now, retention, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not (finite(now) and count(retention) and whole(n)) then return invalid('header (now, retention, count)') end
local last = 4 + 2 * n
if #ARGV ~= last + 2 then return invalid('argument count') end
for i = 5, last, 2 do
  if not finite(tonumber(ARGV[i])) then return invalid('event score ' .. tostring(ARGV[i])) end
end
local s = decode(ARGV[last + 1])
if not aggregate(s) or s.${W.events} ~= n then return invalid('stats delta') end
local deltas = decode(ARGV[last + 2])
if type(deltas) ~= 'table' then return invalid('rollup deltas') end
for _, d in ipairs(deltas) do
  if not (aggregate(d) and finite(d.t)) then return invalid('rollup delta') end
end

local statNames = { ${READ_STATS.map((f) => `'${f}'`).join(', ')} }
local kindNames = {}
for k, _ in pairs(s.${W.kinds}) do kindNames[#kindNames + 1] = '${S.kinds}' .. k end
local cur = redis.call('HMGET', stats, unpack(statNames))
for i = 1, ${INTEGER_STATS.length} do
  if cur[i] and not whole(tonumber(cur[i])) then return corrupt(stats, 'field ' .. statNames[i] .. ' is not a whole number') end
end
for i = ${INTEGER_STATS.length + 1}, ${INTEGER_STATS.length + NUMBER_STATS.length} do
  if cur[i] and not finite(tonumber(cur[i])) then return corrupt(stats, 'field ' .. statNames[i] .. ' is not a number') end
end
local hist = {}
local histText = cur[${at(S.hist)}]
if histText then
  hist = decode(histText)
  if not counts(hist) then return corrupt(stats, 'field ${S.hist} is not a JSON histogram') end
end
if #kindNames > 0 then
  local kinds = redis.call('HMGET', stats, unpack(kindNames))
  for i, v in ipairs(kinds) do
    if v and not whole(tonumber(v)) then return corrupt(stats, 'field ' .. kindNames[i] .. ' is not a whole number') end
  end
end
local stored = {}
for i, d in ipairs(deltas) do
  local text = redis.call('HGET', rollups, tostring(d.t))
  if text then
    local r = decode(text)
    if not aggregate(r) then return corrupt(rollups, 'field ' .. tostring(d.t) .. ' is not a rollup') end
    stored[i] = r
  end
end

-- Phase 2: write. Nothing below can fail.
local i = 5
while i <= last do
  local j = math.min(i + 999, last)
  redis.call('ZADD', events, unpack(ARGV, i, j))
  i = j + 1
end
redis.call('HINCRBY', stats, '${S.events}', s.${W.events})
if s.${W.errors} > 0 then redis.call('HINCRBY', stats, '${S.errors}', s.${W.errors}) end
for k, c in pairs(s.${W.kinds}) do redis.call('HINCRBY', stats, '${S.kinds}' .. k, c) end
local set = {}
local function lower(field, value, old)
  if value ~= nil and (not old or value < old) then set[#set + 1] = field; set[#set + 1] = value end
end
local function higher(field, value, old)
  if value ~= nil and (not old or value > old) then set[#set + 1] = field; set[#set + 1] = value end
end
lower('${S.firstAt}', s.${W.firstAt}, tonumber(cur[${at(S.firstAt)}]))
higher('${S.lastAt}', s.${W.lastAt}, tonumber(cur[${at(S.lastAt)}]))
if s.${W.durCount} > 0 then
  redis.call('HINCRBYFLOAT', stats, '${S.durSum}', s.${W.durSum})
  redis.call('HINCRBY', stats, '${S.durCount}', s.${W.durCount})
  lower('${S.durMin}', s.${W.durMin}, tonumber(cur[${at(S.durMin)}]))
  higher('${S.durMax}', s.${W.durMax}, tonumber(cur[${at(S.durMax)}]))
  -- The latency histogram is one JSON field ({bucket: count}): one read and one write per batch
  -- instead of one HINCRBY per bucket.
  for b, c in pairs(s.${W.hist}) do hist[b] = (hist[b] or 0) + c end
  set[#set + 1] = '${S.hist}'
  set[#set + 1] = cjson.encode(hist)
end
if #set > 0 then redis.call('HSET', stats, unpack(set)) end

for i, d in ipairs(deltas) do
  local r = stored[i]
  if r then
    r.${W.events} = r.${W.events} + d.${W.events}
    r.${W.errors} = r.${W.errors} + d.${W.errors}
    for k, c in pairs(d.${W.kinds}) do r.${W.kinds}[k] = (r.${W.kinds}[k] or 0) + c end
    if d.${W.durCount} > 0 then
      if r.${W.durCount} == 0 or d.${W.durMin} < r.${W.durMin} then r.${W.durMin} = d.${W.durMin} end
      if r.${W.durCount} == 0 or d.${W.durMax} > r.${W.durMax} then r.${W.durMax} = d.${W.durMax} end
      r.${W.durSum} = r.${W.durSum} + d.${W.durSum}
      r.${W.durCount} = r.${W.durCount} + d.${W.durCount}
      for b, c in pairs(d.${W.hist}) do r.${W.hist}[b] = (r.${W.hist}[b] or 0) + c end
    end
    if d.${W.firstAt} and (not r.${W.firstAt} or d.${W.firstAt} < r.${W.firstAt}) then r.${W.firstAt} = d.${W.firstAt} end
    if d.${W.lastAt} and (not r.${W.lastAt} or d.${W.lastAt} > r.${W.lastAt}) then r.${W.lastAt} = d.${W.lastAt} end
  else
    r = d
  end
  local field = tostring(d.t)
  redis.call('HSET', rollups, field, cjson.encode(r))
  if not stored[i] then redis.call('ZADD', rindex, d.t, field) end
end

local cutoff = now - retention
redis.call('ZREMRANGEBYSCORE', events, '-inf', '(' .. cutoff)
local old = redis.call('ZRANGEBYSCORE', rindex, '-inf', cutoff - ${MINUTE_MS}, 'LIMIT', 0, 1000)
if #old > 0 then
  redis.call('HDEL', rollups, unpack(old))
  redis.call('ZREM', rindex, unpack(old))
end
redis.call('ZADD', batches, now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', batches, '-inf', '(' .. cutoff)
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, retention) end
return 1
`;
