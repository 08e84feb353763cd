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
 * KEYS: events, stats, series (the fleet's rollups), the instance's series, batches.
 * ARGV: batchId, nowMs, retentionMs, n, then n (score, member) pairs, then the stats delta JSON,
 * then the rollup deltas JSON (array), or the minute start when the batch falls in one minute.
 * Returns 1 when applied, 0 when the batch id was seen, {@link APPLIED_TO_NEW_KEYS} when applied
 * to a type whose stats hash did not exist (a new type, or one whose keys were lost: a server
 * restarted without its data, keys expired), so the caller registers it in the types set again.
 */
import { MINUTE_MS } from '../core/time-series.js';
import { STATS_FIELDS as S, WIRE_KEYS as W, type EncodedBatch } from './codec.js';
import { SCRIPT_CORRUPT, SCRIPT_INVALID } from './failures.js';
import { oldestField, seriesPrefix, type TypeKeys } from './keys.js';

/** The write script's keys and arguments for one batch (see the KEYS/ARGV layout above). */
export function writeBatchArgs(
  k: TypeKeys,
  instance: string,
  b: EncodedBatch,
  nowMs: number,
  retentionMs: number,
): (string | number)[] {
  return [
    k.events,
    k.stats,
    k.series,
    k.instanceSeries(instance),
    k.batches,
    b.batchId,
    nowMs,
    Math.round(retentionMs),
    b.count,
    ...b.pairs,
    b.statsJson,
    b.rollupsJson,
  ];
}

/** The write script's answer when it applied a batch to a type whose stats hash it created. */
export const APPLIED_TO_NEW_KEYS = 2;

/** The aggregate fields every stored count must hold as a whole number. */
const INTEGER_STATS = [S.events, S.errors, S.durCount];
/** The stats fields that must hold a finite number. */
const NUMBER_STATS = [S.durSum, S.durMin, S.durMax, S.firstAt, S.lastAt];
/** The stats fields read before a write, in HMGET order. */
const READ_STATS: readonly string[] = [...INTEGER_STATS, ...NUMBER_STATS, S.hist];
/** Arguments per ZADD (score, member pairs): below Lua's `unpack` limit of 8,000 values. */
const ZADD_CHUNK = 7_990;
/** Lua index (1-based) of a stats field in the HMGET reply. */
const at = (field: string): number => READ_STATS.indexOf(field) + 1;

export const WRITE_BATCH = `
local KEY_TYPES = { 'zset', 'hash', 'hash', 'hash', 'zset' }
local events, stats, batches = KEYS[1], KEYS[2], KEYS[5]
-- The fleet's rollups and this instance's: every delta goes into both.
local SERIES = { KEYS[3], KEYS[4] }

local function corrupt(key, why) return redis.error_reply('${SCRIPT_CORRUPT} ' .. key .. ' ' .. why) end
local function invalid(why) return redis.error_reply('${SCRIPT_INVALID} ' .. why) end
-- Checks are written inline (no helper call per value): a Lua call costs more than the check.
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
-- A delta (our input): every field checked.
local function delta(a)
  return scalars(a) and counts(a.${W.kinds}) and counts(a.${W.hist})
end
-- A stored aggregate about to receive delta d: its scalars and what d adds to.
local function receives(r, d)
  return scalars(r) and addable(r.${W.kinds}, d.${W.kinds}) and addable(r.${W.hist}, d.${W.hist})
end
local function decode(text)
  local ok, v = pcall(cjson.decode, text)
  if ok then return v end
  return nil
end

-- Phase 1: read and check, write nothing.
local isNew = false
for i, key in ipairs(KEYS) do
  local t = redis.call('TYPE', key).ok
  if t ~= 'none' and t ~= KEY_TYPES[i] then
    return corrupt(key, 'WRONGTYPE: holds a ' .. t .. ', not a ' .. KEY_TYPES[i])
  end
  if key == stats and t == 'none' then isNew = true end
end
if redis.call('ZSCORE', batches, ARGV[1]) then return 0 end
local now, retention, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not (finite(now) and count(retention) and whole(n)) then return invalid('header (now, retention, count)') end
local last = 4 + 2 * n
if #ARGV ~= last + 2 then return invalid('argument count') end
-- Scores are whole epoch milliseconds. A batch that fits one ZADD (its first write) needs no loop:
-- ZADD refuses a score that is not a number for the whole command. A longer one is checked first.
if 2 * n > ${ZADD_CHUNK} then
  local find = string.find
  for i = 5, last, 2 do
    local v = ARGV[i]
    if #v > 16 or not find(v, '^%d+$') then return invalid('event score ' .. v) end
  end
end
local s = decode(ARGV[last + 1])
if not delta(s) or s.${W.events} ~= n then return invalid('stats delta') end
-- The rollup deltas, or the one minute of a batch that falls in one minute: its delta is then
-- the stats delta (without first/last, which rollups do not keep).
local deltas
local minute = tonumber(ARGV[last + 2])
if minute then
  if not finite(minute) then return invalid('rollup minute') end
  deltas = { {
    t = minute, ${W.events} = s.${W.events}, ${W.errors} = s.${W.errors}, ${W.kinds} = s.${W.kinds},
    ${W.durSum} = s.${W.durSum}, ${W.durCount} = s.${W.durCount}, ${W.durMin} = s.${W.durMin},
    ${W.durMax} = s.${W.durMax}, ${W.hist} = s.${W.hist},
  } }
else
  deltas = decode(ARGV[last + 2])
  if type(deltas) ~= 'table' then return invalid('rollup deltas') end
  for _, d in ipairs(deltas) do
    if not (delta(d) and finite(d.t)) then return invalid('rollup delta') end
  end
end

-- One HMGET: the totals, the histogram and the count of every kind of the batch.
local names = { ${READ_STATS.map((f) => `'${f}'`).join(', ')} }
for k, _ in pairs(s.${W.kinds}) do names[#names + 1] = '${S.kinds}' .. k end
local cur = redis.call('HMGET', stats, unpack(names))
for i = 1, #names do
  local v = cur[i]
  if v and i ~= ${at(S.hist)} then
    v = tonumber(v)
    if not (v and v > -huge and v < huge and (i > ${INTEGER_STATS.length} and i <= ${INTEGER_STATS.length + NUMBER_STATS.length} or v % 1 == 0)) then
      return corrupt(stats, 'field ' .. names[i] .. ' is not a number')
    end
    cur[i] = v
  end
end
local hist = {}
local histText = cur[${at(S.hist)}]
if histText then
  hist = decode(histText)
  if not addable(hist, s.${W.hist}) then return corrupt(stats, 'field ${S.hist} is not a JSON histogram') end
end
-- The minute rollups the deltas add to, per series key, and its trimming mark. A delta older than
-- the retention is left out: it would be trimmed at once.
local oldestKept = now - retention
oldestKept = oldestKept - oldestKept % ${MINUTE_MS}
local kept = {}
for _, d in ipairs(deltas) do
  if d.t >= oldestKept then kept[#kept + 1] = d end
end
local stored, marks = {}, {}
for k, key in ipairs(SERIES) do
  local fields = { '${oldestField('m')}' }
  for i, d in ipairs(kept) do fields[i + 1] = '${seriesPrefix('m')}' .. fmtInt(d.t) end
  local got = redis.call('HMGET', key, unpack(fields))
  local mark = got[1] and tonumber(got[1])
  if got[1] and not whole(mark) then return corrupt(key, 'field ${oldestField('m')} is not a number') end
  marks[k] = mark
  stored[k] = {}
  for i, d in ipairs(kept) do
    local text = got[i + 1]
    if text then
      local r = decode(text)
      if not receives(r, d) then return corrupt(key, 'field ' .. fields[i + 1] .. ' is not a rollup') end
      stored[k][i] = r
    end
  end
end

-- Phase 2: write. Nothing below can fail.
local from = 5
while from <= last do
  local to = math.min(from + ${ZADD_CHUNK - 1}, last)
  redis.call('ZADD', events, unpack(ARGV, from, to))
  from = to + 1
end
-- The totals in one HSET: new values computed here from what phase 1 read (counts stay exact
-- up to 2^53; the sum keeps 17 significant digits, like HINCRBYFLOAT).
local fmt = string.format
local set = {
  '${S.events}', fmt('%d', (cur[${at(S.events)}] or 0) + s.${W.events}),
  '${S.errors}', fmt('%d', (cur[${at(S.errors)}] or 0) + s.${W.errors}),
}
local i = ${READ_STATS.length}
for k, c in pairs(s.${W.kinds}) do
  i = i + 1
  set[#set + 1] = names[i]
  set[#set + 1] = fmt('%d', (cur[i] or 0) + c)
end
local function lower(field, value, old)
  if value ~= nil and (not old or value < old) then set[#set + 1] = field; set[#set + 1] = value end
end
local function higher(field, value, old)
  if value ~= nil and (not old or value > old) then set[#set + 1] = field; set[#set + 1] = value end
end
lower('${S.firstAt}', s.${W.firstAt}, cur[${at(S.firstAt)}])
higher('${S.lastAt}', s.${W.lastAt}, cur[${at(S.lastAt)}])
if s.${W.durCount} > 0 then
  set[#set + 1] = '${S.durSum}'
  set[#set + 1] = fmt('%.17g', (cur[${at(S.durSum)}] or 0) + s.${W.durSum})
  set[#set + 1] = '${S.durCount}'
  set[#set + 1] = fmt('%d', (cur[${at(S.durCount)}] or 0) + s.${W.durCount})
  lower('${S.durMin}', s.${W.durMin}, cur[${at(S.durMin)}])
  higher('${S.durMax}', s.${W.durMax}, cur[${at(S.durMax)}])
  -- The latency histogram is one JSON field ({bucket: count}): one read and one write per batch
  -- instead of one HINCRBY per bucket.
  for b, c in pairs(s.${W.hist}) do hist[b] = (hist[b] or 0) + c end
  set[#set + 1] = '${S.hist}'
  set[#set + 1] = cjson.encode(hist)
end
redis.call('HSET', stats, unpack(set))

for k, key in ipairs(SERIES) do
  local set = {}
  for i, d in ipairs(kept) do
    local r = stored[k][i]
    if r then
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
    else
      r = d
    end
    set[#set + 1] = '${seriesPrefix('m')}' .. fmtInt(d.t)
    set[#set + 1] = cjson.encode(r)
  end
  -- Trimming: every minute before the mark is gone; move the mark up to the oldest minute kept,
  -- deleting what it passes (at most 1,000 minutes per write: a long gap is caught up over writes).
  local mark = marks[k] or oldestKept
  if mark < oldestKept then
    local old, m = {}, mark
    while m < oldestKept and #old < 1000 do
      old[#old + 1] = '${seriesPrefix('m')}' .. fmtInt(m)
      m = m + ${MINUTE_MS}
    end
    redis.call('HDEL', key, unpack(old))
    mark = m
  end
  if mark ~= marks[k] then
    set[#set + 1] = '${oldestField('m')}'
    set[#set + 1] = fmtInt(mark)
  end
  if #set > 0 then redis.call('HSET', key, unpack(set)) end
end

local cutoff = now - retention
redis.call('ZREMRANGEBYSCORE', events, '-inf', '(' .. cutoff)
redis.call('ZADD', batches, now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', batches, '-inf', '(' .. cutoff)
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, retention) end
if isNew then return ${APPLIED_TO_NEW_KEYS} end
return 1
`;
