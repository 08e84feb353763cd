/**
 * Lua scripts, registered with ioredis `defineCommand` (EVALSHA, loaded once per connection,
 * reloaded on NOSCRIPT). Each touches the keys of one type only, so it runs in one cluster slot.
 * Field names and the error rule are generated from the TypeScript definitions (`codec.ts`,
 * `core/event.ts`), so the scripts cannot drift from the code that reads what they write.
 */
import { ERROR_KINDS } from '../core/event.js';
import { STATS_FIELDS as S, WIRE_KEYS as W } from './codec.js';

/** A Lua table literal whose keys are the error kinds: `{ ['error'] = true, … }`. */
const LUA_ERROR_KINDS = `{ ${ERROR_KINDS.map((k) => `['${k}'] = true`).join(', ')} }`;

/**
 * Applies one type's batch atomically and idempotently.
 * KEYS: events, stats, rollups, rollupIndex, batches.
 * ARGV: batchId, nowMs, retentionMs, n, then n (score, member) pairs, then the stats delta JSON,
 * then the rollup deltas JSON (array). Returns 1 when applied, 0 when the batch id was seen.
 */
const WRITE_BATCH = `
local events, stats, rollups, rindex, batches = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[2])
local retention = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
if redis.call('ZSCORE', batches, ARGV[1]) then return 0 end
local last = 4 + 2 * n
local i = 5
while i <= last do
  local j = math.min(i + 999, last)
  redis.call('ZADD', events, unpack(ARGV, i, j))
  i = j + 1
end
local s = cjson.decode(ARGV[last + 1])
redis.call('HINCRBY', stats, '${S.events}', s.${W.events})
if s.${W.errors} > 0 then redis.call('HINCRBY', stats, '${S.errors}', s.${W.errors}) end
for k, c in pairs(s.${W.kinds}) do redis.call('HINCRBY', stats, '${S.kinds}' .. k, c) end
local cur = redis.call('HMGET', stats, '${S.firstAt}', '${S.lastAt}', '${S.durMin}', '${S.durMax}', '${S.hist}')
local set = {}
local first, lastAt = tonumber(cur[1]), tonumber(cur[2])
if not first or s.${W.firstAt} < first then set[#set + 1] = '${S.firstAt}'; set[#set + 1] = s.${W.firstAt} end
if not lastAt or s.${W.lastAt} > lastAt then set[#set + 1] = '${S.lastAt}'; set[#set + 1] = s.${W.lastAt} end
if s.${W.durCount} > 0 then
  redis.call('HINCRBYFLOAT', stats, '${S.durSum}', s.${W.durSum})
  redis.call('HINCRBY', stats, '${S.durCount}', s.${W.durCount})
  local mn, mx = tonumber(cur[3]), tonumber(cur[4])
  if not mn or s.${W.durMin} < mn then set[#set + 1] = '${S.durMin}'; set[#set + 1] = s.${W.durMin} end
  if not mx or s.${W.durMax} > mx then set[#set + 1] = '${S.durMax}'; set[#set + 1] = s.${W.durMax} end
  -- The latency histogram is one JSON field ({bucket: count}): one read and one write per batch
  -- instead of one HINCRBY per bucket.
  local h = cur[5] and cjson.decode(cur[5]) or {}
  for b, c in pairs(s.${W.hist}) do h[b] = (h[b] or 0) + c end
  set[#set + 1] = '${S.hist}'
  set[#set + 1] = cjson.encode(h)
end
if #set > 0 then redis.call('HSET', stats, unpack(set)) end

-- Merges the rollup delta d into the stored rollup r (both in the wire form).
local function merge(r, d)
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
  if not r.${W.firstAt} or d.${W.firstAt} < r.${W.firstAt} then r.${W.firstAt} = d.${W.firstAt} end
  if not r.${W.lastAt} or d.${W.lastAt} > r.${W.lastAt} then r.${W.lastAt} = d.${W.lastAt} end
end

for _, d in ipairs(cjson.decode(ARGV[last + 2])) do
  local field = tostring(d.t)
  local cur = redis.call('HGET', rollups, field)
  local r = d
  if cur then
    r = cjson.decode(cur)
    merge(r, d)
  end
  redis.call('HSET', rollups, field, cjson.encode(r))
  redis.call('ZADD', rindex, d.t, field)
end

local cutoff = now - retention
redis.call('ZREMRANGEBYSCORE', events, '-inf', '(' .. cutoff)
local old = redis.call('ZRANGEBYSCORE', rindex, '-inf', cutoff - 60000, 'LIMIT', 0, 1000)
if #old > 0 then
  redis.call('HDEL', rollups, unpack(old))
  redis.call('ZREM', rindex, unpack(old))
end
redis.call('ZADD', batches, now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', batches, '-inf', '(' .. cutoff)
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, retention) end
return 1
`;

/**
 * One page of history, newest first, exact across equal timestamps.
 * KEYS: events. ARGV: to, from, cursorScore ('' for none), cursorPrefix (`{"id":"<id>"`),
 * limit, kind ('' for any), errorsOnly ('1'/'0'), scanCap.
 * Returns { members, more (1/0), cursorScore, cursorMember }.
 */
const HISTORY = `
local key = KEYS[1]
local from = ARGV[2]
local limit = tonumber(ARGV[5])
local kind = ARGV[6]
local errorsOnly = ARGV[7] == '1'
local cap = tonumber(ARGV[8])
local filtered = kind ~= '' or errorsOnly
local ERROR_KINDS = ${LUA_ERROR_KINDS}
local out = {}
local scanned = 0
local curScore, curMember = '', ''

-- Byte-wise comparison, as Redis orders members of equal score (Lua's < uses the locale).
local function less(a, b)
  local la, lb = #a, #b
  for i = 1, math.min(la, lb) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return la < lb
end

local function accept(m)
  if not filtered then return true end
  local e = cjson.decode(m)
  if kind ~= '' and e.kind ~= kind then return false end
  if errorsOnly then
    local hasError = e.error ~= nil and e.error ~= cjson.null
    if not (ERROR_KINDS[e.kind] or hasError) then return false end
  end
  return true
end

-- Returns 'done' when the page is settled: full and one more match seen, or the scan cap hit.
local function visit(m, score)
  scanned = scanned + 1
  if accept(m) then
    if #out >= limit then return 'more' end
    out[#out + 1] = m
    curScore, curMember = score, m
  elseif #out < limit then
    curScore, curMember = score, m
  end
  if scanned >= cap then return 'more' end
  return nil
end

local max = ARGV[1]
if ARGV[3] ~= '' then
  local c = ARGV[3]
  if tonumber(c) <= tonumber(ARGV[1]) then
    local same = redis.call('ZRANGE', key, c, c, 'BYSCORE', 'REV')
    for _, m in ipairs(same) do
      if less(m, ARGV[4]) then
        if visit(m, c) then return { out, 1, curScore, curMember } end
      end
    end
    max = '(' .. c
  end
end
local offset = 0
local chunk = filtered and 500 or (limit + 1)
while true do
  local batch = redis.call('ZRANGE', key, max, from, 'BYSCORE', 'REV', 'LIMIT', offset, chunk, 'WITHSCORES')
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    if visit(batch[i], batch[i + 1]) then return { out, 1, curScore, curMember } end
  end
  offset = offset + chunk
end
return { out, 0, curScore, curMember }
`;

/** Script definitions for `defineCommand`. */
export const SCRIPTS = {
  cmWriteBatch: { numberOfKeys: 5, lua: WRITE_BATCH },
  cmHistory: { numberOfKeys: 1, lua: HISTORY, readOnly: true },
} as const;
