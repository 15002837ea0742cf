-- Applies a batch of observations to alert series, atomically, in one round trip.
-- KEYS: one hash per series. ARGV[1]: ttl in ms. Then 7 fields per observation:
--   key index, event id, at (ms), ok (1/0), value, count (fire after N failures), resolveAfter.
-- A series hash holds: fails, oks, firing (0/1), synced (firing state the incident store has
-- acted on), gen (bumped on every firing change), since, changedAt, lastAt, lastIds (JSON list of
-- the event ids seen at lastAt), value.
-- Observations older than the newest seen, or an event already seen at the newest time, are ignored,
-- so a re-delivered batch changes nothing (even when several of its events share a timestamp);
-- whatever it should have done is still visible as firing ~= synced.
local ttl = tonumber(ARGV[1])
local touched, order = {}, {}
-- Per key: the ids seen at its lastAt, as a set and a list, and whether they changed in this call.
local seenAt = {}
local function idsOf(k, key)
  local e = seenAt[k]
  if not e then
    -- (lastId: the single id kept by hashes written before lastIds existed.)
    local raw = redis.call('HMGET', key, 'lastIds', 'lastId')
    local list = (raw[1] and cjson.decode(raw[1])) or (raw[2] and { raw[2] }) or {}
    local set = {}
    for _, v in ipairs(list) do set[v] = true end
    e = { list = list, set = set, dirty = false }
    seenAt[k] = e
  end
  return e
end
local i = 2
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  local key = KEYS[k]
  local id, at, ok = ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3] == '1'
  local value, count, resolveAfter = ARGV[i + 4], tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
  i = i + 7
  local s = redis.call('HMGET', key, 'fails', 'oks', 'firing', 'lastAt', 'gen', 'since')
  local fails, oks, firing = tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0
  local lastAt, gen, since = tonumber(s[4]) or -1, tonumber(s[5]) or 0, tonumber(s[6]) or 0
  local ids = idsOf(k, key)
  if at > lastAt or (at == lastAt and not ids.set[id]) then
    if at > lastAt then ids.list, ids.set = {}, {} end
    table.insert(ids.list, id)
    ids.set[id] = true
    ids.dirty = true
    if ok then
      oks, fails = oks + 1, 0
    else
      if fails == 0 and firing == 0 then since = at end
      fails, oks = fails + 1, 0
    end
    local fields = { 'fails', fails, 'oks', oks, 'lastAt', at }
    if firing == 0 and fails >= count then
      firing, gen = 1, gen + 1
      table.insert(fields, 'value') table.insert(fields, fails)
      table.insert(fields, 'changedAt') table.insert(fields, at)
    elseif firing == 1 and oks >= resolveAfter then
      firing, gen = 0, gen + 1
      table.insert(fields, 'changedAt') table.insert(fields, at)
    elseif firing == 1 and not ok then
      table.insert(fields, 'value') table.insert(fields, fails)
    end
    table.insert(fields, 'firing') table.insert(fields, firing)
    table.insert(fields, 'gen') table.insert(fields, gen)
    table.insert(fields, 'since') table.insert(fields, since)
    redis.call('HSET', key, unpack(fields))
    redis.call('PEXPIRE', key, ttl)
  end
  if not touched[k] then
    touched[k] = true
    table.insert(order, k)
  end
end
local out = {}
for _, k in ipairs(order) do
  if seenAt[k] and seenAt[k].dirty then
    redis.call('HSET', KEYS[k], 'lastIds', cjson.encode(seenAt[k].list))
  end
  local s = redis.call('HMGET', KEYS[k], 'firing', 'synced', 'gen', 'since', 'changedAt', 'value')
  table.insert(out, { k, s[1] or '0', s[2] or '0', s[3] or '0', s[4] or '0', s[5] or '0', s[6] or '0' })
end
return out
