"""The Redis side of each algorithm: one Lua script per algorithm, run atomically by the server.

Each script mirrors the Python ``_step`` of its class line for line, on integers (time in ticks, see
``base.py``), so memory and Redis make the same decisions on the same trace. (For speed, the memory side
keeps a few times pre-added: the window's end tick instead of its number, each log entry's expiry
tick instead of its admission time; the same information, so the same decisions.) Calling convention:

* ``ARGV[1]``: now in ticks, or ``server`` to read the server's ``TIME`` (one clock for all clients);
* ``ARGV[2]``: the tick in microseconds; ``ARGV[3]``: cost; ``ARGV[4..]``: the algorithm's parameters;
* returns ``{allowed (0/1), remaining, retry, reset, delay}`` in ticks.

Pitfalls handled here: Lua numbers are doubles, exact for integers below 2**53 (the Python side
keeps every quantity below 2**50); ``tostring``/implicit conversion prints only 14 significant digits,
so every number written to Redis goes through ``fmt`` (``%.0f``); every key written gets a PEXPIRE.
"""

from __future__ import annotations

__all__ = ["EXPIRY_GRACE_MS", "FIXED_WINDOW", "SLIDING_LOG", "SLIDING_COUNTER", "TOKEN_BUCKET", "GCRA"]

# Keys outlive their useful state by this long. Expiry is in server (real) time while decisions may
# use a simulated clock; the grace keeps a slow simulated clock from losing state it still needs.
# Keeping state longer never changes a decision: expired state is equivalent to no state.
EXPIRY_GRACE_MS = 60_000

_PRELUDE = f"""
local tick = tonumber(ARGV[2])
local now
if ARGV[1] == 'server' then
  local t = redis.call('TIME')
  now = math.floor((tonumber(t[1]) * 1000000 + tonumber(t[2])) / tick)
else
  now = tonumber(ARGV[1])
end
local cost = tonumber(ARGV[3])
local P = tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
local function cdiv(a, b) return math.floor((a + b - 1) / b) end
local function fmt(x) return string.format('%.0f', x) end
local function expire(key, ticks)
  local ms = cdiv(ticks * tick, 1000)
  if ms < 1 then ms = 1 end
  redis.call('PEXPIRE', key, fmt(ms + {EXPIRY_GRACE_MS}))
end
"""

FIXED_WINDOW = (
    _PRELUDE
    + """
local k_now = math.floor(now / P)
local k, count = k_now, 0
local st = redis.call('HMGET', KEYS[1], 'k', 'c')
if st[1] then
  k = tonumber(st[1]); count = tonumber(st[2])
  if k_now > k then k = k_now; count = 0 end
end
local allowed = 0
if count + cost <= limit then allowed = 1; count = count + cost end
local window_end = (k + 1) * P - now
local retry = 0
if allowed == 0 then retry = window_end end
redis.call('HSET', KEYS[1], 'k', fmt(k), 'c', fmt(count))
expire(KEYS[1], window_end)
return {allowed, limit - count, retry, window_end, 0}
"""
)

SLIDING_LOG = (
    _PRELUDE
    + """
local function parse(entry)
  local sep = string.find(entry, ':', 1, true)
  return tonumber(string.sub(entry, 1, sep - 1)), tonumber(string.sub(entry, sep + 1))
end
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
local tail = redis.call('LINDEX', KEYS[1], -1)
if tail then  -- a client whose clock lags: record it at the newest time, keep the log sorted
  local t = parse(tail)
  if now < t then now = t end
end
local boundary = now - P
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local t, c = parse(head)
  if t > boundary then break end
  redis.call('LPOP', KEYS[1])
  total = total - c
end
local allowed, retry = 0, 0
if total + cost <= limit then
  allowed = 1
  total = total + cost
  tail = redis.call('LINDEX', KEYS[1], -1)
  local t, c
  if tail then t, c = parse(tail) end
  if tail and t == now then
    redis.call('LSET', KEYS[1], -1, fmt(now) .. ':' .. fmt(c + cost))
  else
    redis.call('RPUSH', KEYS[1], fmt(now) .. ':' .. fmt(cost))
  end
else
  local need = total + cost - limit
  local oldest = redis.call('LRANGE', KEYS[1], 0, need - 1)
  local freed = 0
  for i = 1, #oldest do
    local t, c = parse(oldest[i])
    freed = freed + c
    if freed >= need then retry = t + P - now; break end
  end
end
local reset = 0
tail = redis.call('LINDEX', KEYS[1], -1)
if tail then reset = parse(tail) + P - now end
redis.call('SET', KEYS[2], fmt(total))
expire(KEYS[1], reset)
expire(KEYS[2], reset)
return {allowed, limit - total, retry, reset, 0}
"""
)

SLIDING_COUNTER = (
    _PRELUDE
    + """
local k_now = math.floor(now / P)
local k, prev, curr = k_now, 0, 0
local st = redis.call('HMGET', KEYS[1], 'k', 'p', 'c')
if st[1] then
  k = tonumber(st[1]); prev = tonumber(st[2]); curr = tonumber(st[3])
  if k_now == k + 1 then k = k_now; prev = curr; curr = 0
  elseif k_now > k + 1 then k = k_now; prev = 0; curr = 0 end
end
local weight = (k + 1) * P - now
local allowed, retry = 0, 0
if prev * weight + (curr + cost) * P <= limit * P then
  allowed = 1; curr = curr + cost
else
  local room = limit - curr - cost
  if room >= 0 then
    retry = math.min(cdiv(prev * weight - room * P, prev), weight)
  else
    retry = weight + cdiv((curr + cost - limit) * P, curr)
  end
end
local remaining = math.floor((limit * P - prev * weight) / P) - curr
if remaining < 0 then remaining = 0 end
local reset = 0
if curr > 0 then reset = weight + P elseif prev > 0 then reset = weight end
redis.call('HSET', KEYS[1], 'k', fmt(k), 'p', fmt(prev), 'c', fmt(curr))
expire(KEYS[1], reset)
return {allowed, remaining, retry, reset, 0}
"""
)

TOKEN_BUCKET = (
    _PRELUDE
    + """
local cap = tonumber(ARGV[6]) * P
local tokens, last = cap, now
local st = redis.call('HMGET', KEYS[1], 't', 'l')
if st[1] then
  tokens = tonumber(st[1]); last = tonumber(st[2])
  if now > last then
    if now - last >= cdiv(cap - tokens, limit) then tokens = cap
    else tokens = tokens + (now - last) * limit end
    last = now
  end
end
local need = cost * P
local allowed, retry = 0, 0
if tokens >= need then allowed = 1; tokens = tokens - need
else retry = cdiv(need - tokens, limit) end
local reset = cdiv(cap - tokens, limit)
redis.call('HSET', KEYS[1], 't', fmt(tokens), 'l', fmt(last))
expire(KEYS[1], reset)
return {allowed, math.floor(tokens / P), retry, reset, 0}
"""
)

GCRA = (
    _PRELUDE
    + """
local cap = tonumber(ARGV[6]) * P
local tat, rem = now, 0
local st = redis.call('HMGET', KEYS[1], 'a', 'r')
if st[1] then
  tat = tonumber(st[1]); rem = tonumber(st[2])
  if tat < now then tat = now; rem = 0 end
end
local debt = (tat - now) * limit + rem
local r2 = rem + cost * P
local new_tat = tat + math.floor(r2 / limit)
local new_rem = r2 - math.floor(r2 / limit) * limit
local allowed, retry, delay = 0, 0, 0
if debt + cost * P <= cap then
  allowed = 1; delay = cdiv(debt, limit)
  tat = new_tat; rem = new_rem; debt = debt + cost * P
else
  retry = cdiv(debt + cost * P - cap, limit)
end
local reset = cdiv(debt, limit)
redis.call('HSET', KEYS[1], 'a', fmt(tat), 'r', fmt(rem))
expire(KEYS[1], reset)
return {allowed, math.floor((cap - debt) / P), retry, reset, delay}
"""
)
