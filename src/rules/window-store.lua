-- Writes window series that an agent read, judged and changed, unless another wrote them since.
-- KEYS: per series its key (a string of JSON starting {"v":<version>) and its synced-counts key, then
-- the deadlines sorted set. ARGV[1]: idle ttl (ms). Then per series: version read (-1: absent), new
-- JSON, next deadline ('' for none), firing (1/0: a firing series does not expire while idle; only
-- its condition resolves it), synced (1/0: whether its synced-counts key existed when read).
-- The synced counts live as long as their series: were they to expire first, a series that fired
-- once would open its incident again. A series that never fired has none, and no command is spent.
--
-- One command per series in the common case: SET … GET writes and returns what was there; when that
-- was not the version read (another agent wrote in between), it is put back and the series reported.
-- Returns the indexes of the series that changed under us: the caller reads and judges them again.
local ttl = ARGV[1]
local n = (#KEYS - 1) / 2
local zset = KEYS[#KEYS]
local conflicts, add, drop = {}, {}, {}

local function firingText(text)
  local ok, old = pcall(cjson.decode, text)
  return ok and type(old) == 'table' and type(old.life) == 'table' and old.life.firing == true
end

for i = 1, n do
  local key, synced = KEYS[2 * i - 1], KEYS[2 * i]
  local a = 2 + (i - 1) * 5
  local firing = ARGV[a + 3] == '1'
  local cur
  if firing then
    cur = redis.call('SET', key, ARGV[a + 1], 'GET')
  else
    cur = redis.call('SET', key, ARGV[a + 1], 'PX', ttl, 'GET')
  end
  local version = cur and tonumber(string.match(cur, '^{"v":(%d+)')) or -1
  if version ~= tonumber(ARGV[a]) then
    if not cur then
      redis.call('DEL', key)
    elseif firingText(cur) then
      redis.call('SET', key, cur)
    else
      redis.call('SET', key, cur, 'PX', ttl)
    end
    table.insert(conflicts, i)
  else
    if ARGV[a + 4] == '1' then
      if firing then redis.call('PERSIST', synced) else redis.call('PEXPIRE', synced, ttl) end
    end
    if ARGV[a + 2] == '' then
      table.insert(drop, key)
    else
      table.insert(add, ARGV[a + 2])
      table.insert(add, key)
    end
  end
end
if #add > 0 then redis.call('ZADD', zset, unpack(add)) end
if #drop > 0 then redis.call('ZREM', zset, unpack(drop)) end
return conflicts
