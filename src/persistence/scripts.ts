/**
 * Lua scripts, registered with ioredis `defineCommand` (EVALSHA, loaded once per connection,
 * reloaded on NOSCRIPT). Each touches the keys of one type only, so it runs in one cluster slot.
 */

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
redis.call('HINCRBY', stats, 'events', s.e)
if s.x > 0 then redis.call('HINCRBY', stats, 'errors', s.x) end
for k, c in pairs(s.k) do redis.call('HINCRBY', stats, 'k:' .. k, c) end
local cur = redis.call('HMGET', stats, 'first_at', 'last_at', 'dur_min', 'dur_max', 'hist')
local set = {}
local first, lastAt = tonumber(cur[1]), tonumber(cur[2])
if not first or s.f < first then set[#set + 1] = 'first_at'; set[#set + 1] = s.f end
if not lastAt or s.l > lastAt then set[#set + 1] = 'last_at'; set[#set + 1] = s.l end
if s.dc > 0 then
  redis.call('HINCRBYFLOAT', stats, 'dur_sum', s.ds)
  redis.call('HINCRBY', stats, 'dur_count', s.dc)
  local mn, mx = tonumber(cur[3]), tonumber(cur[4])
  if not mn or s.dmin < mn then set[#set + 1] = 'dur_min'; set[#set + 1] = s.dmin end
  if not mx or s.dmax > mx then set[#set + 1] = 'dur_max'; set[#set + 1] = s.dmax end
  -- The latency histogram is one JSON field ({bucket: count}): one read and one write per batch
  -- instead of one HINCRBY per bucket.
  local h = cur[5] and cjson.decode(cur[5]) or {}
  for b, c in pairs(s.h) do h[b] = (h[b] or 0) + c end
  set[#set + 1] = 'hist'
  set[#set + 1] = cjson.encode(h)
end
if #set > 0 then redis.call('HSET', stats, unpack(set)) end

for _, d in ipairs(cjson.decode(ARGV[last + 2])) do
  local field = tostring(d.t)
  local cur = redis.call('HGET', rollups, field)
  local r
  if cur then
    r = cjson.decode(cur)
    r.e = r.e + d.e
    r.x = r.x + d.x
    for k, c in pairs(d.k) do r.k[k] = (r.k[k] or 0) + c end
    if d.dc > 0 then
      if r.dc == 0 or d.dmin < r.dmin then r.dmin = d.dmin end
      if r.dc == 0 or d.dmax > r.dmax then r.dmax = d.dmax end
      r.ds = r.ds + d.ds
      r.dc = r.dc + d.dc
      for b, c in pairs(d.h) do r.h[b] = (r.h[b] or 0) + c end
    end
  else
    r = d
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
    if not (e.kind == 'error' or e.kind == 'timeout' or hasError) then return false end
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
