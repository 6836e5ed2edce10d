"""The Redis side of each algorithm: one Lua script per algorithm, run atomically by the server.

Each script mirrors the ``_step`` method of its class line for line, on integers (time in ticks, see
``base.py``), so memory and Redis make the same decisions on the same trace. Calling convention:

* ``KEYS[1]``: the entity's one key (a string ``"a b c"`` of integers, or a list for the log);
* ``ARGV[1]``: now in ticks, or ``server`` to read the server's ``TIME`` (one clock for all clients);
* ``ARGV[2]``: the tick in microseconds; ``ARGV[3]``: cost; ``ARGV[4]``: how long the key lives after
  an admission (ms); ``ARGV[5..]``: the algorithm's parameters (period in ticks, limit, burst);
* returns ``"allowed remaining retry reset delay"``: five integers in one string (allowed is 0 or 1,
  durations are ticks from now); one string costs the client less to read than a five-item array.

A denial returns before any write: it never changes state, and never extends a key's life.

Pitfalls handled here: Lua numbers are doubles, exact for integers below 2**53 (the Python side keeps
every quantity below 2**50); Redis converts a number passed to ``redis.call`` with only 14
significant digits, so every number written goes through ``string.format('%d', x)``; every write
sets an expiry.
"""

from __future__ import annotations

__all__ = ["FIXED_WINDOW", "SLIDING_LOG", "SLIDING_COUNTER", "TOKEN_BUCKET", "GCRA", "LEAKY_BUCKET"]

_PRELUDE = """
local now
if ARGV[1] == 'server' then
  local t = redis.call('TIME')
  now = math.floor((tonumber(t[1]) * 1000000 + tonumber(t[2])) / tonumber(ARGV[2]))
else
  now = tonumber(ARGV[1])
end
local cost = tonumber(ARGV[3])
local keep_ms = ARGV[4]
local P = tonumber(ARGV[5])
local limit = tonumber(ARGV[6])
local function cdiv(a, b) return math.floor((a + b - 1) / b) end  -- ceil(a / b), b > 0
local function answer(allowed, remaining, retry, reset, delay)  -- one string: cheap to send and parse
  return string.format('%d %d %d %d %d', allowed, remaining, retry, reset, delay)
end
"""

FIXED_WINDOW = (
    _PRELUDE
    + """
local window, count = math.floor(now / P), 0
local state = redis.call('GET', KEYS[1])
if state then
  local k, c = string.match(state, '(%-?%d+) (%-?%d+)')
  k = tonumber(k)
  if k >= window then window, count = k, tonumber(c) end
end
local window_end = (window + 1) * P - now
if count + cost > limit then
  return answer(0, limit - count, window_end, window_end, 0)
end
count = count + cost
redis.call('SET', KEYS[1], string.format('%d %d', window, count), 'PX', keep_ms)
return answer(1, limit - count, 0, window_end, 0)
"""
)

SLIDING_LOG = (
    _PRELUDE
    + """
local newest = tonumber(redis.call('LINDEX', KEYS[1], -1))
local at = now
if newest and newest > now then at = newest end
local oldest = tonumber(redis.call('LINDEX', KEYS[1], 0))
while oldest and oldest <= at - P do
  redis.call('LPOP', KEYS[1])
  oldest = tonumber(redis.call('LINDEX', KEYS[1], 0))
end
local count = redis.call('LLEN', KEYS[1])
if count + cost > limit then
  local need = count + cost - limit
  local blocker = oldest
  if need > 1 then blocker = tonumber(redis.call('LINDEX', KEYS[1], need - 1)) end
  return answer(0, limit - count, blocker + P - now, newest + P - now, 0)
end
local entry, batch = string.format('%d', at), {}
for i = 1, math.min(cost, 1000) do batch[i] = entry end
local left = cost
while left > 0 do
  local n = math.min(left, 1000)
  redis.call('RPUSH', KEYS[1], unpack(batch, 1, n))
  left = left - n
end
redis.call('PEXPIRE', KEYS[1], keep_ms)
return answer(1, limit - count - cost, 0, at + P - now, 0)
"""
)

SLIDING_COUNTER = (
    _PRELUDE
    + """
local window, prev, curr = math.floor(now / P), 0, 0
local state = redis.call('GET', KEYS[1])
if state then
  local k, p, c = string.match(state, '(%-?%d+) (%-?%d+) (%-?%d+)')
  k, p, c = tonumber(k), tonumber(p), tonumber(c)
  if k >= window then window, prev, curr = k, p, c
  elseif k == window - 1 then prev = c end
end
local start = window * P
local at = now
if start > now then at = start end
local lag = at - now
local weight = start + P - at
local previous = prev * weight
local allowed, retry = 0, 0
if previous + (curr + cost) * P <= limit * P then
  allowed = 1
  curr = curr + cost
  redis.call('SET', KEYS[1], string.format('%d %d %d', window, prev, curr), 'PX', keep_ms)
else
  local room = limit - curr - cost
  if room >= 0 then
    retry = cdiv(previous - room * P, prev)
    if retry > weight then retry = weight end
  else
    retry = weight + cdiv((curr + cost - limit) * P, curr)
  end
  retry = lag + retry
end
local remaining = math.floor((limit * P - previous) / P) - curr
if remaining < 0 then remaining = 0 end
local reset = 0
if curr > 0 then reset = lag + weight + P elseif prev > 0 then reset = lag + weight end
return answer(allowed, remaining, retry, reset, 0)
"""
)

TOKEN_BUCKET = (
    _PRELUDE
    + """
local cap = tonumber(ARGV[7]) * P
local tokens, last = cap, now
local state = redis.call('GET', KEYS[1])
if state then
  local t, l = string.match(state, '(%-?%d+) (%-?%d+)')
  tokens, last = tonumber(t), tonumber(l)
end
local at = math.max(now, last)
local lag = at - now
-- refill (comparing the elapsed time first keeps (at - last) * limit in the exact range)
if at - last >= cdiv(cap - tokens, limit) then tokens = cap
else tokens = tokens + (at - last) * limit end
local need = cost * P
if tokens < need then
  return answer(0, math.floor(tokens / P), lag + cdiv(need - tokens, limit), lag + cdiv(cap - tokens, limit), 0)
end
tokens = tokens - need
redis.call('SET', KEYS[1], string.format('%d %d', tokens, at), 'PX', keep_ms)
return answer(1, math.floor(tokens / P), 0, lag + cdiv(cap - tokens, limit), 0)
"""
)

_GCRA = (
    _PRELUDE
    + """
local cap = tonumber(ARGV[7]) * P
local tat, rem = now, 0
local state = redis.call('GET', KEYS[1])
if state then
  local a, r = string.match(state, '(%-?%d+) (%-?%d+)')
  a = tonumber(a)
  if a >= now then tat, rem = a, tonumber(r) end
end
local debt = (tat - now) * limit + rem
local need = cost * P
if debt + need > cap then
  local remaining = math.floor((cap - debt) / P)
  if remaining < 0 then remaining = 0 end  -- (a lagging clock can see more debt than cap)
  return answer(0, remaining, cdiv(debt + need - cap, limit), cdiv(debt, limit), 0)
end
local delay = DELAY
local total = rem + need
tat = tat + math.floor(total / limit)
rem = total % limit
debt = debt + need
redis.call('SET', KEYS[1], string.format('%d %d', tat, rem), 'PX', keep_ms)
return answer(1, math.floor((cap - debt) / P), 0, cdiv(debt, limit), delay)
"""
)

GCRA = _GCRA.replace("DELAY", "0")
LEAKY_BUCKET = _GCRA.replace("DELAY", "cdiv(debt, limit)")  # the queue's wait before leaving
