/**
 * Lua scripts, registered with ioredis `defineCommand` (EVALSHA, loaded once per connection,
 * reloaded on NOSCRIPT). Each touches the keys of one type only, so it runs in one cluster slot.
 * Field names and the error rule are generated from the TypeScript definitions (`codec.ts`,
 * `core/event.ts`), so the scripts cannot drift from the code that reads what they write.
 */
import { ERROR_KINDS } from '../core/event.js';
import { WRITE_BATCH } from './write-script.js';

/** A Lua table literal whose keys are the error kinds: `{ ['error'] = true, … }`. */
const LUA_ERROR_KINDS = `{ ${ERROR_KINDS.map((k) => `['${k}'] = true`).join(', ')} }`;

/**
 * One page of history, newest first, exact across equal timestamps.
 * KEYS: events. ARGV: to, from, cursorScore ('' for none), cursorPrefix (`{"id":"<id>"`),
 * limit, kind ('' for any), errorsOnly ('1'/'0'), scanCap, instancePrefix ('' for every instance,
 * else `{"id":"<instance>:`).
 * Returns { members, more (1/0), cursorScore, cursorMember }.
 */
const HISTORY = `
local key = KEYS[1]
local from = ARGV[2]
local limit = tonumber(ARGV[5])
local kind = ARGV[6]
local errorsOnly = ARGV[7] == '1'
local cap = tonumber(ARGV[8])
-- One instance's events: their members start with {"id":"<instance>: (ids are <instance>:<boot>:<n>).
local instancePrefix = ARGV[9] or ''
local filtered = kind ~= '' or errorsOnly or instancePrefix ~= ''
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
  if instancePrefix ~= '' and string.sub(m, 1, #instancePrefix) ~= instancePrefix then return false end
  if kind == '' and not errorsOnly then return true end
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
