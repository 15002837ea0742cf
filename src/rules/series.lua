-- Applies a batch of observations to alert series, atomically, in one round trip.
-- KEYS: one hash per series. ARGV[1]: ttl in ms. Then 7 fields per observation:
--   key index, event id, at (ms), ok (1/0), value, count (fire after N failures), resolveAfter.
-- A series hash holds: fails, oks, firing (0/1), since (start of the current failing run),
-- fires / resolves (how many times it fired / resolved), firedSince (start of the run that last
-- fired), resolvedAt, value, lastAt, lastIds (JSON list of the event ids seen at lastAt), and
-- syncedFires / syncedResolves (how many of those the incident store has acted on).
-- Observations older than the newest seen, or an event already seen at the newest time, are ignored,
-- so a re-delivered batch changes nothing (even when several of its events share a timestamp);
-- whatever it should have done is still visible as fires/resolves ahead of their synced counts.
local ttl = tonumber(ARGV[1])
local order = {}
-- Per key: the ids seen at its lastAt, as a set and a list, and whether they changed in this call.
local seenAt = {}
local function idsOf(k, key)
  local e = seenAt[k]
  if not e then
    local raw = redis.call('HGET', key, 'lastIds')
    local list = (raw and cjson.decode(raw)) or {}
    local set = {}
    for _, v in ipairs(list) do set[v] = true end
    e = { list = list, set = set, dirty = false }
    seenAt[k] = e
    table.insert(order, k)
  end
  return e
end
local i = 2
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  local key = KEYS[k]
  local id, at, ok = ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3] == '1'
  local count, resolveAfter = tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
  i = i + 7
  local ids = idsOf(k, key)
  local s = redis.call('HMGET', key, 'fails', 'oks', 'firing', 'lastAt', 'since', 'fires', 'resolves')
  local fails, oks, firing = tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0
  local lastAt, since = tonumber(s[4]) or -1, tonumber(s[5]) or 0
  local fires, resolves = tonumber(s[6]) or 0, tonumber(s[7]) or 0
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
    local fields = { 'fails', fails, 'oks', oks, 'lastAt', at, 'since', since }
    if firing == 0 and fails >= count then
      firing, fires = 1, fires + 1
      for _, v in ipairs({ 'fires', fires, 'firedSince', since, 'value', fails }) do table.insert(fields, v) end
    elseif firing == 1 and oks >= resolveAfter then
      firing, resolves = 0, resolves + 1
      for _, v in ipairs({ 'resolves', resolves, 'resolvedAt', at }) do table.insert(fields, v) end
    elseif firing == 1 and not ok then
      for _, v in ipairs({ 'value', fails }) do table.insert(fields, v) end
    end
    table.insert(fields, 'firing')
    table.insert(fields, firing)
    redis.call('HSET', key, unpack(fields))
    redis.call('PEXPIRE', key, ttl)
  end
end
local out = {}
for _, k in ipairs(order) do
  if seenAt[k].dirty then
    redis.call('HSET', KEYS[k], 'lastIds', cjson.encode(seenAt[k].list))
  end
  local s = redis.call('HMGET', KEYS[k], 'firing', 'fires', 'resolves', 'syncedFires', 'syncedResolves',
    'firedSince', 'resolvedAt', 'value')
  local row = { k }
  for j = 1, 8 do row[j + 1] = s[j] or '0' end
  table.insert(out, row)
end
return out
