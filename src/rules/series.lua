-- Applies a batch of observations to alert series, atomically, in one round trip.
-- KEYS: one hash per series. ARGV[1]: ttl in ms; ARGV[2]: how many observations a series keeps.
-- Then 7 fields per observation: key index, event id, at (ms), ok (1/0), value, count (fire after N
-- failures in a row), resolveAfter (resolve after N passes in a row).
--
-- A series hash holds the lifecycle: firing (0/1), fires / resolves (how many times it fired /
-- resolved), syncedFires / syncedResolves (how many of those the incident store has acted on),
-- firedSince (first failure of the run that fired last), resolvedAt, value (failures in a row); and
-- `window`, MessagePack (far cheaper to write than JSON from Lua) of:
--   obs   the most recent observations, [at, id, ok], ordered by (at, id), at most `keep` of them;
--   floor [at, id] of the newest observation dropped from obs: anything not after it is too late;
--   head  [ok, n, startAt]: the run of dropped observations ending at floor, so a run stays
--         measurable (count, start) however long it grows;
--   fa/ra [at, id] of the observation that decided the last fire / resolve (its anchor).
--
-- Observations may arrive in any order (batches are evaluated in parallel). Each is put in its
-- place; then the runs after the last anchor are walked in time order, so a run completed by a late
-- observation still fires or resolves. Transitions already made stand. An observation already in
-- obs changes nothing, so a re-delivered batch changes nothing.
-- Returns per series, in first-seen order: key index, firing, fires, resolves, syncedFires,
-- syncedResolves, firedSince, resolvedAt, value, late (applied in their place), tooLate (dropped).
local ttl, keep = tonumber(ARGV[1]), tonumber(ARGV[2])

local function before(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end

-- The runs of obs from the one holding obs[from] on (a run reaching back to the dropped observations
-- counts them too; before obs[1], the dropped run itself).
local function runsOf(obs, head, from)
  local runs = {}
  while from > 1 and obs[from - 1][3] == obs[from][3] do from = from - 1 end
  if from == 1 and head and not (obs[1] and obs[1][3] == head[1]) then
    table.insert(runs, { ok = head[1], n = head[2], start = head[3], carried = head[2] })
  end
  for i = from, #obs do
    local e = obs[i]
    local r = runs[#runs]
    if r and r.first and r.ok == e[3] then
      r.last, r.n = i, r.n + 1
    else
      r = { ok = e[3], first = i, last = i, n = 1, start = e[1], carried = 0 }
      if i == 1 and head and head[1] == e[3] then r.n, r.start, r.carried = head[2] + 1, head[3], head[2] end
      table.insert(runs, r)
    end
  end
  return runs
end

local function indexOf(obs, id)
  for i = #obs, 1, -1 do
    if obs[i][2] == id then return i end
  end
  return nil
end

-- The run holding the observation with this id (nil when it is no longer kept).
local function runHolding(runs, obs, anchor)
  local i = anchor and indexOf(obs, anchor[2])
  if not i then return nil end
  for _, r in ipairs(runs) do
    if r.first and r.first <= i and i <= r.last then return r end
  end
  return nil
end

-- The k-th observation of a run, when it is still kept.
local function nth(obs, r, k)
  local i = r.first + k - r.carried - 1
  if i >= r.first and i <= r.last then return obs[i] end
  return nil
end

local function apply(key, batch)
  local h = redis.call('HMGET', key, 'window', 'firing', 'fires', 'resolves', 'firedSince', 'resolvedAt', 'value',
    'syncedFires', 'syncedResolves')
  local w = (h[1] and cmsgpack.unpack(h[1])) or { obs = {} }
  local s = {
    firing = tonumber(h[2]) or 0, fires = tonumber(h[3]) or 0, resolves = tonumber(h[4]) or 0,
    firedSince = tonumber(h[5]) or 0, resolvedAt = tonumber(h[6]) or 0, value = tonumber(h[7]) or 0,
    syncedFires = tonumber(h[8]) or 0, syncedResolves = tonumber(h[9]) or 0,
  }
  local obs = w.obs
  local newest = obs[#obs]
  local late, tooLate, added = 0, 0, 0
  for _, e in ipairs(batch.items) do
    -- Usually the newest yet: appended. Otherwise put in its place, unless already there (a re-delivery).
    local i = #obs
    while i > 0 and before(e, obs[i]) do i = i - 1 end
    if i > 0 and obs[i][2] == e[2] or (i < #obs and indexOf(obs, e[2])) then
      -- already applied
    elseif w.floor and not before(w.floor, e) then
      tooLate = tooLate + 1
    else
      if newest and before(e, newest) then late = late + 1 end
      table.insert(obs, i + 1, e)
      added = added + 1
    end
  end
  if added > 0 then
    -- In order, only the last run and what follows it can have changed; a late one may change any.
    local runs = runsOf(obs, w.head, late > 0 and 1 or math.max(#obs - added, 1))
    -- Walk the runs after the last transition's anchor, in time order, as if they came in order.
    local anchor = (s.firing == 1 and w.fa) or (s.fires > 0 and s.firing == 0 and w.ra) or nil
    for _, r in ipairs(runs) do
      if r.first and (not anchor or before(anchor, obs[r.last])) then
        if s.firing == 0 and r.ok == 0 and r.n >= batch.count then
          local e = nth(obs, r, batch.count) or obs[r.first]
          s.firing, s.fires, s.firedSince = 1, s.fires + 1, r.start
          w.fa = { e[1], e[2] }
          anchor = w.fa
        elseif s.firing == 1 and r.ok == 1 and r.n >= batch.resolveAfter then
          local e = nth(obs, r, batch.resolveAfter) or obs[r.first]
          s.firing, s.resolves, s.resolvedAt = 0, s.resolves + 1, e[1]
          w.ra = { e[1], e[2] }
          anchor = w.ra
        end
      end
    end
    if late > 0 then
      -- A late observation may have moved where the anchors' runs start (or resolved) in time.
      local fr = runHolding(runs, obs, w.fa)
      if fr then s.firedSince = fr.start end
      local rr = runHolding(runs, obs, w.ra)
      local resolvedBy = rr and nth(obs, rr, batch.resolveAfter)
      if resolvedBy then s.resolvedAt = resolvedBy[1] end
    end
    -- value: failures in a row of the last failing run while it fired (before its resolve).
    if s.fires > 0 and (s.firing == 1 or w.ra) then
      for j = #runs, 1, -1 do
        local r = runs[j]
        if r.ok == 0 and (s.firing == 1 or (r.first and before(obs[r.last], w.ra))) then
          s.value = r.n
          break
        end
      end
    end
    while #obs > keep do
      local e = table.remove(obs, 1)
      if w.head and w.head[1] == e[3] then w.head[2] = w.head[2] + 1 else w.head = { e[3], 1, e[1] } end
      w.floor = { e[1], e[2] }
    end
    if not h[1] then redis.call('HDEL', key, 'fails', 'oks', 'since', 'lastAt', 'lastIds') end
    redis.call('HSET', key, 'window', cmsgpack.pack(w), 'firing', s.firing, 'fires', s.fires,
      'resolves', s.resolves, 'firedSince', s.firedSince, 'resolvedAt', s.resolvedAt, 'value', s.value)
    redis.call('PEXPIRE', key, ttl)
  end
  return { s.firing, s.fires, s.resolves, s.syncedFires, s.syncedResolves, s.firedSince, s.resolvedAt, s.value,
    late, tooLate }
end

local batches, order = {}, {}
for i = 3, #ARGV, 7 do
  local k = tonumber(ARGV[i])
  local b = batches[k]
  if not b then
    b = { items = {} }
    batches[k] = b
    table.insert(order, k)
  end
  table.insert(b.items, { tonumber(ARGV[i + 2]), ARGV[i + 1], tonumber(ARGV[i + 3]) })
  b.count, b.resolveAfter = tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
end

local out = {}
for _, k in ipairs(order) do
  local row = apply(KEYS[k], batches[k])
  table.insert(row, 1, k)
  table.insert(out, row)
end
return out
