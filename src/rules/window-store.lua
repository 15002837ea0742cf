-- Writes window series that an agent read, judged and changed, unless another wrote them since.
-- KEYS: the series (strings of JSON starting {"v":<version>), then the deadlines sorted set.
-- ARGV[1]: idle ttl (ms). Then per series: version read (-1: absent), new JSON, next deadline ('' for
-- none), firing (1/0: a firing series does not expire while idle; only its condition resolves it).
-- Returns the indexes of the series that changed under us: the caller reads and judges them again.
local ttl = ARGV[1]
local n = #KEYS - 1
local zset = KEYS[#KEYS]
local conflicts, add, drop = {}, {}, {}
for i = 1, n do
  local a = 2 + (i - 1) * 4
  local cur = redis.call('GET', KEYS[i])
  local version = cur and tonumber(string.match(cur, '^{"v":(%d+)')) or -1
  if version ~= tonumber(ARGV[a]) then
    table.insert(conflicts, i)
  else
    if ARGV[a + 3] == '1' then
      redis.call('SET', KEYS[i], ARGV[a + 1])
    else
      redis.call('SET', KEYS[i], ARGV[a + 1], 'PX', ttl)
    end
    if ARGV[a + 2] == '' then
      table.insert(drop, KEYS[i])
    else
      table.insert(add, ARGV[a + 2])
      table.insert(add, KEYS[i])
    end
  end
end
if #add > 0 then redis.call('ZADD', zset, unpack(add)) end
if #drop > 0 then redis.call('ZREM', zset, unpack(drop)) end
return conflicts
