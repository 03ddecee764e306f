/*
 * store_redis.lua.h -- the server-side script of the Redis store (see
 * store_redis.c), one call per check: GCRA over every cell of the check
 * at once, atomically. The same arithmetic as mem_gcra() in
 * store_memory.c, on nanoseconds kept as (seconds, nanoseconds) pairs,
 * because a Lua number (a double) is exact only up to 2^53 and
 * nanoseconds since 1970 are near 2^61. Sums saturate at 2^64 - 1 ns as
 * in C, so both stores give the same answers on the same events.
 *
 * KEYS[i]  one per cell
 * ARGV[1]  "1": count the event (commit), "0": only look
 * ARGV[2]  milliseconds a key outlives its state (expiry slack)
 * ARGV[3], ARGV[4]  now as seconds and nanoseconds; both empty: the
 *          server's clock (TIME), one clock for every mxgate
 * ARGV[5 + 4(i-1) ...]  inc and tau of cell i, as seconds, nanoseconds
 * returns  for each cell: wait (s, ns), level (s, ns)
 *
 * A key holds "SECONDS NANOSECONDS" (the tat) and expires when its state
 * has decayed; a key that does not hold that (another program wrote it)
 * counts as absent and is overwritten by a commit.
 */
#ifndef MXGATE_STORE_REDIS_LUA_H
#define MXGATE_STORE_REDIS_LUA_H

#define STORE_REDIS_LUA \
"local B = 1000000000\n" \
"local MS, MN = 18446744073, 709551615\n" \
"local function sat(s, n)\n" \
"  if s > MS or (s == MS and n > MN) then return MS, MN end\n" \
"  return s, n\n" \
"end\n" \
"local function add(as, an, bs, bn)\n" \
"  local s, n = as + bs, an + bn\n" \
"  if n >= B then s, n = s + 1, n - B end\n" \
"  return sat(s, n)\n" \
"end\n" \
"local function sub(as, an, bs, bn)\n" \
"  local s, n = as - bs, an - bn\n" \
"  if n < 0 then s, n = s - 1, n + B end\n" \
"  return s, n\n" \
"end\n" \
"local function gt(as, an, bs, bn)\n" \
"  return as > bs or (as == bs and an > bn)\n" \
"end\n" \
"local commit = ARGV[1] == '1'\n" \
"local slack = tonumber(ARGV[2]) or 1000\n" \
"local ns, nn = tonumber(ARGV[3]), tonumber(ARGV[4])\n" \
"if ns == nil or nn == nil then\n" \
"  local t = redis.call('TIME')\n" \
"  ns, nn = tonumber(t[1]), tonumber(t[2]) * 1000\n" \
"end\n" \
"local out = {}\n" \
"for i = 1, #KEYS do\n" \
"  local a = 4 * i\n" \
"  local is, inn = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])\n" \
"  local ts, tn = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])\n" \
"  local bs, bn = ns, nn\n" \
"  local v = redis.pcall('GET', KEYS[i])\n" \
"  if type(v) == 'string' then\n" \
"    local s, n = string.match(v, '^(%d+) (%d+)$')\n" \
"    s, n = tonumber(s), tonumber(n)\n" \
"    if s and n and n < B and gt(s, n, ns, nn) then bs, bn = s, n end\n" \
"  end\n" \
"  local ls, ln = sub(bs, bn, ns, nn)\n" \
"  local fs, fn = add(ls, ln, is, inn)\n" \
"  local ws, wn = 0, 0\n" \
"  if gt(fs, fn, ts, tn) then ws, wn = sub(fs, fn, ts, tn) end\n" \
"  out[#out + 1] = ws\n" \
"  out[#out + 1] = wn\n" \
"  out[#out + 1] = ls\n" \
"  out[#out + 1] = ln\n" \
"  if commit then\n" \
"    local es, en = add(bs, bn, is, inn)\n" \
"    local ds, dn = sub(es, en, ns, nn)\n" \
"    local ttl = ds * 1000 + math.ceil(dn / 1000000) + slack\n" \
"    if ttl > 315360000000 then ttl = 315360000000 end\n" \
"    redis.call('SET', KEYS[i], string.format('%d %d', es, en), 'PX', ttl)\n" \
"  end\n" \
"end\n" \
"return out\n"

#endif
