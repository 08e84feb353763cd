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
 * Rollups go to two series (the fleet's, at minute, hour and day; the instance's, at minute and
 * hour); see `lua-series.ts` for how hours and days stay exact at one merge per minute.
 *
 * KEYS: events, stats, series (the fleet's), the instance's series, batches.
 * ARGV: batchId, nowMs, retentionMs (events and minutes), hourRetentionMs, dayRetentionMs,
 * quietMs, firstErrorAt, lastErrorAt ('' without errors), n, then n (score, member) pairs, then
 * the stats delta JSON, then the rollup deltas JSON (array), or the minute start when the batch
 * falls in one minute. Returns 0 when the batch id was seen (nothing changes), else the flags
 * {@link WRITE_FLAGS}: applied; applied to a type whose stats hash did not exist (a new type, or
 * one whose keys were lost: a server restarted without its data, keys expired), so the caller
 * registers it in the types set again; its first error is the type's first in `quietMs` (a
 * notable event).
 */
import { STATS_FIELDS as S, WIRE_KEYS as W, type EncodedBatch } from './codec.js';
import type { TypeKeys } from './keys.js';
import { LUA_CHECKS } from './lua-checks.js';
import { LUA_SERIES } from './lua-series.js';

/** Retentions and the quiet period a write needs, ms. */
export interface WriteSettings {
  /** Raw events and minute rollups. */
  readonly retentionMs: number;
  readonly hourlyRetentionMs: number;
  readonly dailyRetentionMs: number;
  /** A type's first error after this long without one is notable. */
  readonly quietMs: number;
}

/** The write script's keys and arguments for one batch (see the KEYS/ARGV layout above). */
export function writeBatchArgs(
  k: TypeKeys,
  instance: string,
  b: EncodedBatch,
  nowMs: number,
  settings: WriteSettings,
): (string | number)[] {
  return [
    k.events,
    k.stats,
    k.series,
    k.instanceSeries(instance),
    k.batches,
    b.batchId,
    nowMs,
    Math.round(settings.retentionMs),
    Math.round(settings.hourlyRetentionMs),
    Math.round(settings.dailyRetentionMs),
    Math.round(settings.quietMs),
    b.firstErrorAt ?? '',
    b.lastErrorAt ?? '',
    b.count,
    ...b.pairs,
    b.statsJson,
    b.rollupsJson,
  ];
}

/** The write script's answer (0: the batch id was seen, nothing changed): these flags. */
export const WRITE_FLAGS = {
  applied: 1,
  /** The type's stats hash did not exist: the script created it. */
  newKeys: 2,
  /** The batch's first error is the type's first after the quiet period. */
  firstError: 4,
} as const;

/** Arguments before the (score, member) pairs. */
const HEADER = 9;
/** Stats hash field: when the type's last error happened (for "first error after quiet"). */
const LAST_ERROR_AT = 'last_error_at';
/** The aggregate fields every stored count must hold as a whole number. */
const INTEGER_STATS = [S.events, S.errors, S.durCount];
/** The stats fields that must hold a finite number. */
const NUMBER_STATS = [S.durSum, S.durMin, S.durMax, S.firstAt, S.lastAt, LAST_ERROR_AT];
/** The stats fields read before a write, in HMGET order. */
const READ_STATS: readonly string[] = [...INTEGER_STATS, ...NUMBER_STATS, S.hist];
/** Arguments per ZADD (score, member pairs): below Lua's `unpack` limit of 8,000 values. */
const ZADD_CHUNK = 7_990;
/** Lua index (1-based) of a stats field in the HMGET reply. */
const at = (field: string): number => READ_STATS.indexOf(field) + 1;

export const WRITE_BATCH = `
local KEY_TYPES = { 'zset', 'hash', 'hash', 'hash', 'zset' }
local events, stats, batches = KEYS[1], KEYS[2], KEYS[5]
${LUA_CHECKS}
${LUA_SERIES}

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
local now = tonumber(ARGV[2])
local keep = { m = tonumber(ARGV[3]), h = tonumber(ARGV[4]), d = tonumber(ARGV[5]) }
local quiet = tonumber(ARGV[6])
local firstError, lastError = tonumber(ARGV[7]), tonumber(ARGV[8])
local n = tonumber(ARGV[${HEADER}])
if not (finite(now) and count(keep.m) and count(keep.h) and count(keep.d) and count(quiet) and whole(n)) then
  return invalid('header (now, retentions, quiet, count)')
end
if (ARGV[7] ~= '' and not finite(firstError)) or (ARGV[8] ~= '' and not finite(lastError)) then
  return invalid('error times')
end
local last = ${HEADER} + 2 * n
if #ARGV ~= last + 2 then return invalid('argument count') end
-- Scores are whole epoch milliseconds. A batch that fits one ZADD (its first write) needs no loop:
-- ZADD refuses a score that is not a number for the whole command. A longer one is checked first.
if 2 * n > ${ZADD_CHUNK} then
  local find = string.find
  for i = ${HEADER + 1}, last, 2 do
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
local fleet, err = seriesRead(KEYS[3], { 'm', 'h', 'd' }, deltas, now, keep)
if err then return err end
local own
own, err = seriesRead(KEYS[4], { 'm', 'h' }, deltas, now, keep)
if err then return err end

-- Phase 2: write. Nothing below can fail.
local from = ${HEADER + 1}
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
-- The first error after a quiet period is notable: the caller records it (reply 2).
local lastErrorBefore = cur[${at(LAST_ERROR_AT)}] or nil
local isNotable = firstError ~= nil and (lastErrorBefore == nil or firstError - lastErrorBefore >= quiet)
higher('${LAST_ERROR_AT}', lastError, lastErrorBefore)
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
seriesWrite(fleet, deltas, now, keep)
seriesWrite(own, deltas, now, keep)

local cutoff = now - keep.m
redis.call('ZREMRANGEBYSCORE', events, '-inf', '(' .. cutoff)
redis.call('ZADD', batches, now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', batches, '-inf', '(' .. cutoff)
-- Events and batch ids live for the retention; the totals and the fleet's series as long as its
-- longest resolution (days), so an idle type keeps its history; an instance's series its hours.
for _, key in ipairs({ events, batches }) do redis.call('PEXPIRE', key, keep.m) end
redis.call('PEXPIRE', stats, math.max(keep.m, keep.h, keep.d))
local flags = ${WRITE_FLAGS.applied}
if isNew then flags = flags + ${WRITE_FLAGS.newKeys} end
if isNotable then flags = flags + ${WRITE_FLAGS.firstError} end
return flags
`;
