/**
 * Lua of the rollup series, part of the write script (it uses `LUA_CHECKS`).
 *
 * A series hash (the fleet's, or one instance's) holds rollups at several resolutions: `m:<t>`
 * minutes, `h:<t>` hours, `d:<t>` days. Every delta is merged into its minute. A minute is folded
 * into its hour and day **once**, by the first write that finds it complete (a later minute has
 * begun by the writer's clock) — so the coarse resolutions cost one merge per minute, not per
 * batch, and stay exact. Minutes written but not folded yet are listed in `_pending` (a few: the
 * current minute and any ahead of it); readers add them to the coarse buckets. A delta for a
 * minute folded already (a late event), or older than the minute retention, goes straight into the
 * coarse buckets. Each resolution is trimmed by its own retention (`_oldest:<res>` marks how far).
 */
import { RESOLUTION_MS, type Resolution } from '../core/time-series.js';
import { oldestField, PENDING_FIELD, RESOLUTION_LETTER, seriesPrefix } from './keys.js';

/** A Lua table literal `{ m = …, h = …, d = … }` of one value per resolution (by its letter). */
function perResolution(value: (res: Resolution) => string): string {
  const entries = (Object.keys(RESOLUTION_LETTER) as Resolution[]).map(
    (res) => `${RESOLUTION_LETTER[res]} = ${value(res)}`,
  );
  return `{ ${entries.join(', ')} }`;
}

export const LUA_SERIES = `
local SIZE = ${perResolution((r) => String(RESOLUTION_MS[r]))}
local PREFIX = ${perResolution((r) => `'${seriesPrefix(r)}'`)}
local MARK = ${perResolution((r) => `'${oldestField(r)}'`)}
local function bucket(t, res) return t - t % SIZE[res] end
local function field(res, t) return PREFIX[res] .. fmtInt(t) end

-- Phase 1 for one series key: reads and checks everything the write will touch. resList: the
-- resolutions this key keeps ('m' first); keep[res]: their retention, ms. Returns a plan, or nil
-- and an error reply.
local function seriesRead(key, resList, deltas, now, keep)
  local plan = { key = key, res = resList, marks = {}, minutes = {}, coarse = {}, pending = {}, late = {}, fold = {} }
  local nowMinute = bucket(now, 'm')
  local oldestMinute = bucket(now - keep.m, 'm')
  local f = { '${PENDING_FIELD}' }
  for _, res in ipairs(resList) do f[#f + 1] = MARK[res] end
  local base = #f
  for _, d in ipairs(deltas) do f[#f + 1] = field('m', d.t) end
  local got = redis.call('HMGET', key, unpack(f))
  if got[1] then
    local list = decode(got[1])
    if type(list) ~= 'table' then return nil, corrupt(key, 'field ${PENDING_FIELD} is not a list of minutes') end
    for _, t in ipairs(list) do
      if not whole(t) then return nil, corrupt(key, 'field ${PENDING_FIELD} is not a list of minutes') end
      plan.pending[t] = true
    end
  end
  for j, res in ipairs(resList) do
    local v = got[1 + j]
    if v then
      v = tonumber(v)
      if not whole(v) then return nil, corrupt(key, 'field ' .. MARK[res] .. ' is not a number') end
    end
    plan.marks[res] = v
  end
  for i, d in ipairs(deltas) do
    local text = got[base + i]
    if d.t < oldestMinute then
      plan.late[d.t] = true
    elseif text then
      local r = decode(text)
      if not receives(r, d) then return nil, corrupt(key, 'field ' .. f[base + i] .. ' is not a rollup') end
      plan.minutes[d.t] = r
      if not plan.pending[d.t] then plan.late[d.t] = true end
    elseif d.t < nowMinute then
      plan.fold[d.t] = true
    end
  end
  for t, _ in pairs(plan.pending) do
    if t < nowMinute then plan.fold[t] = true end
  end
  -- Second read: the pending minutes to fold that no delta brought, and the coarse buckets that
  -- receive a fold or a late delta.
  local g, what = {}, {}
  for t, _ in pairs(plan.fold) do
    if plan.pending[t] and plan.minutes[t] == nil then
      g[#g + 1] = field('m', t); what[#what + 1] = { 'm', t }
    end
  end
  local wanted = {}
  local function want(t)
    for j = 2, #resList do
      local res = resList[j]
      local b = bucket(t, res)
      local name = field(res, b)
      if not wanted[name] then
        wanted[name] = true
        g[#g + 1] = name; what[#what + 1] = { res, b }
      end
    end
  end
  for t, _ in pairs(plan.fold) do want(t) end
  for t, _ in pairs(plan.late) do want(t) end
  for res, _ in pairs(SIZE) do plan.coarse[res] = {} end
  if #g > 0 then
    local read = redis.call('HMGET', key, unpack(g))
    for i, w in ipairs(what) do
      local text = read[i]
      if text then
        local r = decode(text)
        if not delta(r) then return nil, corrupt(key, 'field ' .. g[i] .. ' is not a rollup') end
        if w[1] == 'm' then plan.minutes[w[2]] = r else plan.coarse[w[1]][w[2]] = r end
      end
    end
  end
  return plan, nil
end

-- Phase 2 for one series key: merges, folds, trims, writes. Nothing here can fail.
local function seriesWrite(plan, deltas, now, keep)
  local set = {}
  local nowMinute = bucket(now, 'm')
  local function intoCoarse(t, a)
    for j = 2, #plan.res do
      local res = plan.res[j]
      local b = bucket(t, res)
      local r = plan.coarse[res][b]
      -- A bucket older than its resolution's retention is not written again (it was trimmed).
      if b < bucket(now - keep[res], res) then r = false end
      if r == nil then
        r = emptyRollup(b)
        plan.coarse[res][b] = r
      end
      if r then
        merge(r, a)
        r.changed = true
      end
    end
  end
  for _, d in ipairs(deltas) do
    local r = plan.minutes[d.t]
    if plan.late[d.t] then
      intoCoarse(d.t, d)
      if r ~= nil then
        merge(r, d)
        set[#set + 1] = field('m', d.t); set[#set + 1] = cjson.encode(r)
      end
    else
      if r == nil then
        r = emptyRollup(d.t)
        plan.minutes[d.t] = r
      end
      merge(r, d)
      set[#set + 1] = field('m', d.t); set[#set + 1] = cjson.encode(r)
      if not plan.fold[d.t] and not plan.pending[d.t] then
        plan.pending[d.t] = true
        plan.pendingChanged = true
      end
    end
  end
  for t, _ in pairs(plan.fold) do
    local r = plan.minutes[t]
    if r ~= nil then intoCoarse(t, r) end
    if plan.pending[t] then
      plan.pending[t] = nil
      plan.pendingChanged = true
    end
  end
  for j = 2, #plan.res do
    for b, r in pairs(plan.coarse[plan.res[j]]) do
      if type(r) == 'table' and r.changed then
        r.changed = nil
        set[#set + 1] = field(plan.res[j], b); set[#set + 1] = cjson.encode(r)
      end
    end
  end
  -- The pending list is rewritten only when it changed (usually once a minute).
  if plan.pendingChanged then
    local list = {}
    for t, _ in pairs(plan.pending) do list[#list + 1] = t end
    table.sort(list)
    set[#set + 1] = '${PENDING_FIELD}'; set[#set + 1] = cjson.encode(list)
  end
  -- Trimming: every bucket before the mark is gone; move the mark up to the oldest bucket kept,
  -- deleting what it passes (at most 1,000 buckets a write: a long gap is caught up over writes).
  local ttl = 0
  for _, res in ipairs(plan.res) do
    if keep[res] > ttl then ttl = keep[res] end
    local oldest = bucket(now - keep[res], res)
    local mark = plan.marks[res] or oldest
    if mark < oldest then
      local old, b = {}, mark
      while b < oldest and #old < 1000 do
        old[#old + 1] = field(res, b)
        b = b + SIZE[res]
      end
      redis.call('HDEL', plan.key, unpack(old))
      mark = b
    end
    if mark ~= plan.marks[res] then
      set[#set + 1] = MARK[res]; set[#set + 1] = fmtInt(mark)
    end
  end
  redis.call('HSET', plan.key, unpack(set))
  redis.call('PEXPIRE', plan.key, ttl)
end
`;
