-- Writes window series that an agent read, judged and changed, unless another wrote them since.
-- KEYS: per series its key (a string of JSON starting {"v":<version>) and its synced-counts key, then
-- the deadlines sorted set. ARGV[1]: idle ttl (ms). Then per series: version read (-1: absent), new
-- JSON, next deadline ('' for none), firing (1/0: a firing series does not expire while idle; only
-- its condition resolves it). The synced counts live as long as their series: were they to expire
-- first, a series that fired once would open its incident again.
-- Returns the indexes of the series that changed under us: the caller reads and judges them again.
local ttl = ARGV[1]
local n = (#KEYS - 1) / 2
local zset = KEYS[#KEYS]
local conflicts, add, drop = {}, {}, {}
for i = 1, n do
  local key, synced = KEYS[2 * i - 1], KEYS[2 * i]
  local a = 2 + (i - 1) * 4
  local cur = redis.call('GET', key)
  local version = cur and tonumber(string.match(cur, '^{"v":(%d+)')) or -1
  if version ~= tonumber(ARGV[a]) then
    table.insert(conflicts, i)
  else
    if ARGV[a + 3] == '1' then
      redis.call('SET', key, ARGV[a + 1])
      redis.call('PERSIST', synced)
    else
      redis.call('SET', key, ARGV[a + 1], 'PX', ttl)
      redis.call('PEXPIRE', synced, ttl)
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
