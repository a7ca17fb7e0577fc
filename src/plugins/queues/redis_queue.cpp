#include "plugins/queues/redis_queue.hpp"

#include "core/json_access.hpp"
#include "core/text.hpp"
#include "plugins/queues/common.hpp"
#include "plugins/queues/pool.hpp"
#include "plugins/queues/redis.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

namespace infra::plugins::queues {
namespace {

using namespace core;
using namespace core::queue;
using redis::Conn;
using redis::Reply;

// The data, under a prefix (default "infra:queue:"):
//   t:ID           hash: the task: its task, decision and result (CBOR) and
//                  its queue fields (a field not yet set reads as its
//                  default: att and fence 0, req and appr [], updated =
//                  created; owner and until are read only while leased)
//   n:I            the Ith task of an enqueue, staged in the same MULTI as
//                  the script that renames it to t:ID: what is known before
//                  the script runs (payloads, type, agent ...) never passes
//                  through Lua, which would intern it
//   d:DEDUPE       the id of the unfinished task with that dedupe key (SET NX)
//   s:AGENT:PRIO   stream of claimable tasks not yet leased (consumer group
//                  "workers"): id and seq each
//   r:AGENT:PRIO   sorted set: claimable tasks back on the queue (released,
//                  retried, approved, after a lease ran out) by sequence
//                  number, claimed in turn with the stream's: a stream has
//                  no place for them but its end
//   ready          hash: stream -> entries not yet delivered to a worker
//   agents         set of agents with a stream (or an r: set)
//   delayed        sorted set: queued tasks not claimable before their score
//   leases         sorted set: leased tasks by lease end
//   dead           dead-letter stream: each task that went dead, with its error
//   st:STATE       sorted set per state but leased, by sequence number (ls,
//                  stats); the leased are those in leases
//   lex            every task by id (prefix lookups)
//   finished       sorted set: final tasks by when they finished (purge)
//   seq            the sequence counter; wake: the channel idle workers hear
//   events         distributed mode's output stream: workers' events for the server
//
// Every script takes the prefix as ARGV[1] and the time (epoch ms) as ARGV[2].
constexpr const char* k_prelude = R"lua(
local P = ARGV[1]
local now = tonumber(ARGV[2])
-- A whole number as Redis is given it: Lua would write it with '%.14g',
-- which costs several times as much.
local fmt = string.format
local function int(n) return fmt('%d', n) end
local function tkey(id) return P .. 't:' .. id end
-- Changes to the counts of undelivered entries, and whether to wake idle
-- workers: written once per script by done().
local ready_delta, woke = {}, false
local function done(result)
  for sk, d in pairs(ready_delta) do
    if d ~= 0 then redis.call('HINCRBY', P .. 'ready', sk, d) end
  end
  if woke then redis.call('PUBLISH', P .. 'wake', '1') end
  return result
end
-- From a state to another, neither of them leased (leases holds those).
local function move(id, from, to, seq)
  if from ~= 'leased' then redis.call('ZREM', P .. 'st:' .. from, id) end
  redis.call('ZADD', P .. 'st:' .. to, seq, id)
  redis.call('HSET', tkey(id), 'state', to)
end
-- Puts a task back on the queue, in its place among the claimable tasks.
local function push(id)
  local agent, prio, seq = unpack(redis.call('HMGET', tkey(id), 'agent', 'prio', 'seq'))
  redis.call('ZADD', P .. 'r:' .. agent .. ':' .. prio, seq, id)
  redis.call('SADD', P .. 'agents', agent)
  woke = true
end
-- Takes a task off its stream (or its set of tasks back on the queue).
local function drop_entry(id, delivered)
  local agent, prio, eid = unpack(redis.call('HMGET', tkey(id), 'agent', 'prio', 'entry'))
  if eid and eid ~= '' then
    local sk = P .. 's:' .. agent .. ':' .. prio
    if delivered then redis.call('XACK', sk, 'workers', eid)
    else ready_delta[sk] = (ready_delta[sk] or 0) - 1 end
    redis.call('XDEL', sk, eid)
    redis.call('HSET', tkey(id), 'entry', '')
  elseif agent and not delivered then
    redis.call('ZREM', P .. 'r:' .. agent .. ':' .. prio, id)
  end
end
local function finish(id)
  local k = tkey(id)
  local dk = redis.call('HGET', k, 'dk')
  if redis.call('GET', P .. 'd:' .. dk) == id then redis.call('DEL', P .. 'd:' .. dk) end
  redis.call('ZREM', P .. 'leases', id)
  redis.call('ZREM', P .. 'delayed', id)
  redis.call('HSET', k, 'owner', '', 'until', '', 'updated', ARGV[2])
  redis.call('ZADD', P .. 'finished', now, id)
end
local function dead_letter(id)
  redis.call('XADD', P .. 'dead', 'MAXLEN', '~', 10000, '*', 'id', id, 'error', redis.call('HGET', tkey(id), 'err'))
end
-- The fencing check: {state, fence} when id is not leased under token
-- (and, when live, with its lease still running), else nil.
local function refused(id, token, live)
  local state, fence, untl = unpack(redis.call('HMGET', tkey(id), 'state', 'fence', 'until'))
  if not state then return {'', '0'} end
  if state ~= 'leased' or fence ~= token or (live and tonumber(untl) < now) then return {state, fence or '0'} end
  return nil
end
-- Takes a task out of its lease (the caller says where it goes next).
local function unlease(id)
  drop_entry(id, true)
  redis.call('ZREM', P .. 'leases', id)
end
-- Gives a lease back without counting its attempt: the task is queued
-- again, claimable from avail, with err as its last error (nil: kept).
local function give_back(id, avail, err)
  local k = tkey(id)
  unlease(id)
  local att = tonumber(redis.call('HGET', k, 'att'))
  redis.call('HSET', k, 'att', math.max(att - 1, 0), 'avail', avail, 'owner', '', 'until', '', 'updated', ARGV[2])
  if err then redis.call('HSET', k, 'err', err) end
  move(id, 'leased', 'queued', redis.call('HGET', k, 'seq'))
end
-- Commands over many members at once, sent in slices (Lua's unpack has a limit).
local function each_slice(cmd, key, list)
  for i = 1, #list, 4000 do
    redis.call(cmd, key, unpack(list, i, math.min(#list, i + 3999)))
  end
end
)lua";

// ARGV[3] how many tasks, [4..] runs of tasks that share an agent, state,
// priority and delay: each run is its length, agent, state, priority and
// delay (ms), then each task's id and dedupe key. The Ith task (from 0) is
// staged at n:I. Returns {id, state, 1 if it was there already, ...}.
constexpr const char* k_enqueue = R"lua(
local out = {}
local n = tonumber(ARGV[3])
local seq = redis.call('INCRBY', P .. 'seq', n) - n
local lex, by_state = {}, {}
-- Appends a new claimable task to its stream; returns the entry, which the
-- task's hash keeps.
local known = {}
local function append(id, agent, prio, seq)
  local sk = P .. 's:' .. agent .. ':' .. prio
  if not known[sk] then
    if redis.call('EXISTS', sk) == 0 then
      redis.call('XGROUP', 'CREATE', sk, 'workers', '$', 'MKSTREAM')
      redis.call('SADD', P .. 'agents', agent)
    end
    known[sk] = true
  end
  local eid = redis.call('XADD', sk, '*', 'id', id, 'seq', seq)
  ready_delta[sk] = (ready_delta[sk] or 0) + 1
  woke = true
  return eid
end
local nth = 0
local function one(id, dk, agent, state, prio, delay)
  local k = tkey(id)
  local staged = P .. 'n:' .. int(nth)
  nth = nth + 1
  -- Takes the dedupe key unless an unfinished task holds it (SET NX GET),
  -- then the id, by moving the staged task into place unless a task already
  -- has it (RENAMENX).
  local dkey = P .. 'd:' .. dk
  local other = redis.call('SET', dkey, id, 'NX', 'GET')
  if not other and redis.call('RENAMENX', staged, k) == 0 then
    redis.call('DEL', dkey)
    other = id
  end
  if other then
    redis.call('DEL', staged)
    out[#out + 1] = other
    out[#out + 1] = redis.call('HGET', tkey(other), 'state') or 'queued'
    out[#out + 1] = 1
  else
    seq = seq + 1
    local sq = int(seq)
    local eid = ''
    if state == 'queued' then
      -- The staged task holds the same time, from the same ARGV[2].
      local avail = delay > 0 and int(now + delay) or ARGV[2]
      if delay > 0 then redis.call('ZADD', P .. 'delayed', avail, id)
      else eid = append(id, agent, prio, sq) end
    end
    redis.call('HSET', k, 'seq', sq, 'entry', eid)
    lex[#lex + 1] = '0'
    lex[#lex + 1] = id
    local members = by_state[state] or {}
    by_state[state] = members
    members[#members + 1] = sq
    members[#members + 1] = id
    out[#out + 1] = id
    out[#out + 1] = state
    out[#out + 1] = 0
  end
end
local i = 4
while i <= #ARGV do
  local count, agent, state, prio, delay = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], tonumber(ARGV[i + 4])
  i = i + 5
  for _ = 1, count do
    one(ARGV[i], ARGV[i + 1], agent, state, prio, delay)
    i = i + 2
  end
end
each_slice('ZADD', P .. 'lex', lex)
for state, members in pairs(by_state) do each_slice('ZADD', P .. 'st:' .. state, members) end
return done(out)
)lua";

// ARGV[3] worker, [4] lease ms, [5] max, [6..] agents (none: every agent).
// Returns {expired: {id, state ...}, until, leases: {id, fence, attempt ...}}; the caller
// reads the rest (t:ID's task, decision, max attempts and ready time) itself, so that it does not
// pass through Lua.
constexpr const char* k_claim = R"lua(
local worker, lease, max = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
-- Delayed tasks that came due become claimable.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', P .. 'delayed', id)
  if redis.call('HGET', tkey(id), 'state') == 'queued' then push(id) end
end
-- A lease that ran out belongs to a worker that died or hung: its attempt
-- counts, and the task goes to the next claimer.
local expired = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', '(' .. now, 'LIMIT', 0, 1000)) do
  local k = tkey(id)
  local att, maxatt, owner, seq = unpack(redis.call('HMGET', k, 'att', 'maxatt', 'owner', 'seq'))
  unlease(id)
  redis.call('HSET', k, 'err', 'lease expired: worker ' .. (owner ~= '' and owner or '?') .. ' stopped renewing it',
    'avail', ARGV[2], 'updated', ARGV[2], 'owner', '', 'until', '')
  if tonumber(att) >= tonumber(maxatt) then
    move(id, 'leased', 'dead', seq)
    finish(id)
    dead_letter(id)
    table.insert(expired, id) table.insert(expired, 'dead')
  else
    move(id, 'leased', 'queued', seq)
    push(id)
    table.insert(expired, id) table.insert(expired, 'queued')
  end
end
local agents = {}
if #ARGV >= 6 then for i = 6, #ARGV do table.insert(agents, ARGV[i]) end
else agents = redis.call('SMEMBERS', P .. 'agents') end
local last = {}
local function last_delivered(sk)
  if not last[sk] then
    local groups = redis.call('XINFO', 'GROUPS', sk)
    last[sk] = '0-0'
    for _, g in ipairs(groups) do
      for j = 1, #g, 2 do if g[j] == 'last-delivered-id' then last[sk] = g[j + 1] end end
    end
  end
  return last[sk]
end
local leases, taken, was_queued, lease_ends = {}, 0, {}, {}
local untl = int(now + lease)
-- Leases a task; fresh: from its stream entry.
local function take(id, fresh)
  local k = tkey(id)
  local fence, att = '1', '1'
  if not fresh then
    fence, att = unpack(redis.call('HMGET', k, 'fence', 'att'))
    fence = int(tonumber(fence or 0) + 1)
    att = int(tonumber(att or 0) + 1)
  end
  redis.call('HSET', k, 'state', 'leased', 'fence', fence, 'att', att, 'owner', worker, 'until', untl,
    'updated', ARGV[2])
  taken = taken + 1
  was_queued[taken] = id
  lease_ends[#lease_ends + 1] = untl
  lease_ends[#lease_ends + 1] = id
  leases[#leases + 1] = id
  leases[#leases + 1] = fence
  leases[#leases + 1] = att
end
local function take_entry(sk, entry)
  last[sk] = entry[1]
  ready_delta[sk] = (ready_delta[sk] or 0) - 1
  -- Only a task never leased has an entry (the end of each lease takes the
  -- entry away): its fence and attempts are still 0. The entry's fields
  -- are id then seq, as written.
  take(entry[2][2], true)
end
local ready = P .. 'ready'
for prio = 3, 0, -1 do
  -- This priority's streams with undelivered entries, and sets of tasks
  -- back on the queue.
  local streams, again = {}, {}
  for _, a in ipairs(agents) do
    local sk = P .. 's:' .. a .. ':' .. prio
    if tonumber(redis.call('HGET', ready, sk) or '0') + (ready_delta[sk] or 0) > 0 then
      streams[#streams + 1] = sk
    end
    local rk = P .. 'r:' .. a .. ':' .. prio
    if redis.call('EXISTS', rk) == 1 then again[#again + 1] = rk end
  end
  if #streams == 1 and #again == 0 and taken < max then
    local r = redis.call('XREADGROUP', 'GROUP', 'workers', worker, 'COUNT', max - taken, 'STREAMS', streams[1], '>')
    if r then for _, e in ipairs(r[1][2]) do take_entry(streams[1], e) end end
  elseif #streams + #again > 0 then
    -- First in, first out across agents and sets: always the oldest head.
    while taken < max do
      local best, best_seq, from_set
      for _, sk in ipairs(streams) do
        local head = redis.call('XRANGE', sk, '(' .. last_delivered(sk), '+', 'COUNT', 1)[1]
        if head then
          local seq
          for j = 1, #head[2], 2 do if head[2][j] == 'seq' then seq = tonumber(head[2][j + 1]) end end
          if not best_seq or seq < best_seq then best, best_seq, from_set = sk, seq, false end
        end
      end
      for _, rk in ipairs(again) do
        local head = redis.call('ZRANGE', rk, 0, 0, 'WITHSCORES')
        if head[1] and (not best_seq or tonumber(head[2]) < best_seq) then
          best, best_seq, from_set = rk, tonumber(head[2]), head[1]
        end
      end
      if not best then break end
      if from_set then
        redis.call('ZREM', best, from_set)
        take(from_set)
      else
        local r = redis.call('XREADGROUP', 'GROUP', 'workers', worker, 'COUNT', 1, 'STREAMS', best, '>')
        if not r then break end
        take_entry(best, r[1][2][1])
      end
    end
  end
  if taken >= max then break end
end
if taken > 0 then
  each_slice('ZREM', P .. 'st:queued', was_queued)
  each_slice('ZADD', P .. 'leases', lease_ends)
end
return done({expired, untl, leases})
)lua";

// ARGV[3] id, [4] token, [5] lease ms.
constexpr const char* k_heartbeat = R"lua(
local id, token = ARGV[3], ARGV[4]
local no = refused(id, token, true)
if no then return no end
local untl = int(now + tonumber(ARGV[5]))
redis.call('HSET', tkey(id), 'until', untl, 'updated', ARGV[2])
redis.call('ZADD', P .. 'leases', untl, id)
return 1
)lua";

// ARGV[3..]: id, token, result (CBOR, '' for none) per ack.
constexpr const char* k_ack = R"lua(
local out = {}
local entries, was_leased, succeeded, finished, dedupe = {}, {}, {}, {}, {}
for i = 3, #ARGV, 3 do
  local id, token, result = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local k = tkey(id)
  local state, fence, untl, agent, prio, eid, seq, dk =
    unpack(redis.call('HMGET', k, 'state', 'fence', 'until', 'agent', 'prio', 'entry', 'seq', 'dk'))
  if not state then table.insert(out, {'', '0'})
  elseif state ~= 'leased' or fence ~= token or tonumber(untl) < now then table.insert(out, {state, fence or '0'})
  else
    if eid ~= '' then
      local sk = P .. 's:' .. agent .. ':' .. prio
      entries[sk] = entries[sk] or {}
      local list = entries[sk]
      list[#list + 1] = eid
    end
    -- Its lease's owner and end stay behind: they are read only while leased.
    if result ~= '' then redis.call('HSET', k, 'state', 'succeeded', 'updated', ARGV[2], 'result', result)
    else redis.call('HSET', k, 'state', 'succeeded', 'updated', ARGV[2]) end
    -- An unfinished task always holds its dedupe key: no other can take it.
    dedupe[#dedupe + 1] = P .. 'd:' .. dk
    was_leased[#was_leased + 1] = id
    succeeded[#succeeded + 1] = seq
    succeeded[#succeeded + 1] = id
    finished[#finished + 1] = ARGV[2]
    finished[#finished + 1] = id
    out[#out + 1] = 1
  end
end
-- Acknowledged entries are trimmed from the front of their stream (whole
-- nodes at a time, which costs far less than deleting each): everything
-- older than the oldest entry still pending, or, when none is pending, than
-- the last one just acknowledged. Acks come in the order of delivery, so that
-- is usually the newest; when it is not, less is trimmed now and the rest
-- later. Either way only delivered and acknowledged entries go: undelivered
-- ones are newer than any delivered.
for sk, list in pairs(entries) do
  for i = 1, #list, 4000 do
    redis.call('XACK', sk, 'workers', unpack(list, i, math.min(#list, i + 3999)))
  end
  local pending = redis.call('XPENDING', sk, 'workers')
  local keep = (pending[1] > 0 and pending[2]) or list[#list]
  redis.call('XTRIM', sk, 'MINID', '~', keep)
end
if #was_leased > 0 then
  each_slice('ZREM', P .. 'leases', was_leased)
  each_slice('ZADD', P .. 'st:succeeded', succeeded)
  each_slice('ZADD', P .. 'finished', finished)
end
for i = 1, #dedupe, 4000 do redis.call('DEL', unpack(dedupe, i, math.min(#dedupe, i + 3999))) end
return out
)lua";

// ARGV[3] id, [4] token, [5] error, [6] 'dead' or 'queued', [7] delay ms.
constexpr const char* k_nack = R"lua(
local id, token, to = ARGV[3], ARGV[4], ARGV[6]
local no = refused(id, token, true)
if no then return no end
local k = tkey(id)
unlease(id)
local avail = int(now + tonumber(ARGV[7]))
redis.call('HSET', k, 'err', ARGV[5], 'avail', avail, 'owner', '', 'until', '', 'updated', ARGV[2])
move(id, 'leased', to, redis.call('HGET', k, 'seq'))
if to == 'dead' then
  finish(id)
  dead_letter(id)
else
  redis.call('ZADD', P .. 'delayed', avail, id)
end
return 1
)lua";

// ARGV[3] id, [4] token.
constexpr const char* k_release = R"lua(
local id, token = ARGV[3], ARGV[4]
local no = refused(id, token, false)
if no then return no end
give_back(id, ARGV[2], nil)
push(id)
return done(1)
)lua";

// ARGV[3] id, [4] token, [5] reason, [6] delay ms.
constexpr const char* k_defer = R"lua(
local id, token = ARGV[3], ARGV[4]
local no = refused(id, token, false)
if no then return no end
local avail = int(now + tonumber(ARGV[6]))
give_back(id, avail, ARGV[5])
redis.call('ZADD', P .. 'delayed', avail, id)
return done(1)
)lua";

// ARGV[3] id, [4] token, [5] 'denied' or 'pending-approval', [6] reason,
// [7] required approvals (JSON), [8] decision (CBOR).
constexpr const char* k_redecide = R"lua(
local id, token, to = ARGV[3], ARGV[4], ARGV[5]
local no = refused(id, token, false)
if no then return no end
local k = tkey(id)
unlease(id)
local att = tonumber(redis.call('HGET', k, 'att'))
redis.call('HSET', k, 'err', ARGV[6], 'req', ARGV[7], 'appr', '[]', 'att', math.max(att - 1, 0), 'owner', '',
  'until', '', 'updated', ARGV[2])
redis.call('HSET', k, 'decision', ARGV[8])
move(id, 'leased', to, redis.call('HGET', k, 'seq'))
if to == 'denied' then finish(id) end
return 1
)lua";

// ARGV[3] id, [4] approvals as read, [5] approvals now, [6] next state.
// Compare-and-set: 0 when another approval came in between.
constexpr const char* k_approve = R"lua(
local id = ARGV[3]
local k = tkey(id)
local state, appr = unpack(redis.call('HMGET', k, 'state', 'appr'))
if state ~= 'pending-approval' or (appr or '[]') ~= ARGV[4] then return 0 end
redis.call('HSET', k, 'appr', ARGV[5], 'avail', ARGV[2], 'updated', ARGV[2])
if ARGV[6] == 'queued' then
  move(id, 'pending-approval', 'queued', redis.call('HGET', k, 'seq'))
  push(id)
end
return done(1)
)lua";

// ARGV[3] id, [4] reason. Returns the state when it was not pending.
constexpr const char* k_reject = R"lua(
local id = ARGV[3]
local state = redis.call('HGET', tkey(id), 'state')
if state ~= 'pending-approval' then return {state or ''} end
redis.call('HSET', tkey(id), 'err', ARGV[4])
move(id, 'pending-approval', 'denied', redis.call('HGET', tkey(id), 'seq'))
finish(id)
return 1
)lua";

// ARGV[3] id. Returns {state} when not dead or cancelled, 0 when another
// unfinished task holds the dedupe key.
constexpr const char* k_retry = R"lua(
local id = ARGV[3]
local k = tkey(id)
local state, dk, seq = unpack(redis.call('HMGET', k, 'state', 'dk', 'seq'))
if state ~= 'dead' and state ~= 'cancelled' then return {state or ''} end
if not redis.call('SET', P .. 'd:' .. dk, id, 'NX') then return 0 end
redis.call('HSET', k, 'att', 0, 'avail', ARGV[2], 'updated', ARGV[2])
redis.call('ZREM', P .. 'finished', id)
move(id, state, 'queued', seq)
push(id)
return done(1)
)lua";

// ARGV[3] id. Returns {state} when already finished.
constexpr const char* k_cancel = R"lua(
local id = ARGV[3]
local k = tkey(id)
local state, seq = unpack(redis.call('HMGET', k, 'state', 'seq'))
if state ~= 'queued' and state ~= 'leased' and state ~= 'pending-approval' then return {state or ''} end
drop_entry(id, state == 'leased')
move(id, state, 'cancelled', seq)
finish(id)
return done(1)
)lua";

// ARGV[3] cutoff (finished before), [4..] states. Returns how many went.
constexpr const char* k_purge = R"lua(
local states = {}
for i = 4, #ARGV do states[ARGV[i]] = true end
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'finished', '-inf', '(' .. ARGV[3])) do
  local state = redis.call('HGET', tkey(id), 'state')
  if state and states[state] then
    redis.call('DEL', tkey(id))
    redis.call('ZREM', P .. 'finished', id)
    redis.call('ZREM', P .. 'lex', id)
    redis.call('ZREM', P .. 'st:' .. state, id)
    n = n + 1
  end
end
return n
)lua";

// ARGV[3] the layout this build writes. Returns the layout of the keys
// under the prefix, after claiming an unused prefix for ARGV[3]. The first
// layout wrote no layout key, but always the sequence counter.
constexpr const char* k_layout_check = R"lua(
local found = redis.call('GET', P .. 'layout')
if found then return found end
if redis.call('EXISTS', P .. 'seq') == 1 then return '1' end
redis.call('SET', P .. 'layout', ARGV[3])
return ARGV[3]
)lua";

// Returns {{state, count} ...}, delayed, expired leases, oldest ready time (0: none).
constexpr const char* k_stats = R"lua(
local counts = {}
for _, s in ipairs({'pending-approval', 'queued', 'leased', 'succeeded', 'dead', 'cancelled', 'denied'}) do
  local n = redis.call('ZCARD', P .. (s == 'leased' and 'leases' or 'st:' .. s))
  if n > 0 then table.insert(counts, {s, n}) end
end
local delayed = redis.call('ZCOUNT', P .. 'delayed', '(' .. now, '+inf')
local expired = redis.call('ZCOUNT', P .. 'leases', '-inf', '(' .. now)
local oldest = 0
local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
if due[2] then oldest = tonumber(due[2]) end
local ready = redis.call('HGETALL', P .. 'ready')
for i = 1, #ready, 2 do
  if tonumber(ready[i + 1]) > 0 then
    local last = '0-0'
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', ready[i])) do
      for j = 1, #g, 2 do if g[j] == 'last-delivered-id' then last = g[j + 1] end end
    end
    local head = redis.call('XRANGE', ready[i], '(' .. last, '+', 'COUNT', 1)[1]
    if head then
      local at = tonumber(redis.call('HGET', tkey(head[2][2]), 'avail'))
      if at and (oldest == 0 or at < oldest) then oldest = at end
    end
  end
end
-- The heads of the sets of tasks back on the queue.
for _, a in ipairs(redis.call('SMEMBERS', P .. 'agents')) do
  for prio = 0, 3 do
    local head = redis.call('ZRANGE', P .. 'r:' .. a .. ':' .. prio, 0, 0)[1]
    if head then
      local at = tonumber(redis.call('HGET', tkey(head), 'avail'))
      if oldest == 0 or at < oldest then oldest = at end
    end
  end
end
return {counts, delayed, expired, oldest}
)lua";

std::string sha1_hex(const std::string& s)
{
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
    std::string out;
    char buf[3];
    for (unsigned char c : d) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        out += buf;
    }
    return out;
}

/// A script with its SHA-1, run by EVALSHA (loaded again after a server
/// restart flushed its script cache).
// A Lua script and its SHA-1, which is computed when first sent rather than
// when the program starts (most processes never use Redis).
class Script {
public:
    explicit Script(const char* s) : m_body(std::string(k_prelude) + s) {}
    const std::string& body() const { return m_body; }
    const std::string& sha() const
    {
        std::call_once(m_once, [this] { m_sha = sha1_hex(m_body); });
        return m_sha;
    }

private:
    std::string m_body;
    mutable std::once_flag m_once;
    mutable std::string m_sha;
};

std::string cbor_bytes(const json& j)
{
    auto b = json::to_cbor(j);
    return std::string(b.begin(), b.end());
}

const std::vector<std::string> k_fields = {"state",   "type",  "agent", "dk",    "prio", "att", "maxatt", "created",
                                           "updated", "avail", "until", "owner", "err",  "req", "appr",   "fence"};

/// The layout of the keys below: changed whenever a key or field changes meaning.
constexpr const char* k_layout = "2";

/// A field the scripts leave unset until it changes, read as its default.
const std::string& or_default(const Reply& r, const std::string& fallback)
{
    return r.is_nil() ? fallback : r.str;
}

class RedisQueue final : public Queue {
public:
    RedisQueue(redis::Address a, std::string where, OpenOptions opt)
        : m_addr(std::move(a)), m_where(std::move(where)), m_opt(opt),
          m_pool([addr = m_addr, w = m_where] { return Conn::open(addr, w); })
    {
    }

    Status init()
    {
        auto v = command({"INFO", "server"});
        if (!v) return v.error();
        if (v->type == Reply::Type::error) return fail(Errc::unavailable, "'" + m_where + "': " + v->str);
        // SET NX GET needs Redis 7.0 (exclusive XRANGE starts, 6.2).
        auto pos = v->str.find("redis_version:");
        if (pos != std::string::npos) {
            int major = 0, minor = 0;
            std::sscanf(v->str.c_str() + pos + 14, "%d.%d", &major, &minor);
            if (major < 7)
                return fail(Errc::unavailable, "'" + m_where + "' runs Redis " + std::to_string(major) + "." +
                                                   std::to_string(minor) + "; the queue needs 7.0 or later");
        }
        return check_layout();
    }

    Result<std::vector<EnqueueOutcome>> enqueue(std::vector<EnqueueItem> items) override
    {
        // What the script does not decide is staged beside it (see n:I).
        auto now = now_ms();
        std::string created = std::to_string(now);
        std::vector<std::string> args = {std::to_string(items.size())};
        std::vector<std::vector<std::string>> staged;
        args.reserve(items.size() * 2 + 6);
        staged.reserve(items.size());
        std::size_t run_at = 0;  ///< where the current run's length is in args
        for (const auto& item : items) {
            json approvals =
                item.decision.is_object() ? core::array_member(item.decision, "requiredApprovals") : json::array();
            std::string state(to_string(item.initial)),
                prio = std::to_string(effective_priority(item.task, item.decision));
            auto delay = std::max<std::int64_t>(0, item.delay.count());
            staged.push_back({"HSET", m_addr.prefix + "n:" + std::to_string(staged.size()), "task",
                              cbor_bytes(to_json(item.task)), "decision", cbor_bytes(item.decision), "state", state,
                              "type", std::string(to_string(item.task.type)), "agent", item.task.context.agent_slug,
                              "dk", item.task.dedupe_key, "prio", prio, "avail", std::to_string(now + delay), "maxatt",
                              std::to_string(std::max(1, item.max_attempts)), "created", created,
                              // Every field, always: n:I may hold what a failed enqueue left.
                              "req", approvals.dump()});
            std::string delay_ms = std::to_string(delay);
            bool same_run = run_at && args[run_at + 1] == item.task.context.agent_slug && args[run_at + 2] == state &&
                            args[run_at + 3] == prio && args[run_at + 4] == delay_ms;
            if (same_run) {
                args[run_at] = std::to_string(std::stoll(args[run_at]) + 1);
            } else {
                run_at = args.size();
                args.insert(args.end(), {"1", item.task.context.agent_slug, std::move(state), std::move(prio),
                                         std::move(delay_ms)});
            }
            args.insert(args.end(), {item.task.id, item.task.dedupe_key});
        }
        auto r = run(s_enqueue, std::move(args), now, std::move(staged));
        if (!r) return r.error();
        const auto& v = r->elements;
        if (v.size() != items.size() * 3) return fail(Errc::internal, "'" + m_where + "': unexpected enqueue reply");
        std::vector<EnqueueOutcome> out;
        for (std::size_t i = 0; i < v.size(); i += 3)
            out.push_back({v[i].str, parse_state(v[i + 1].str).value_or(State::queued), v[i + 2].as_int() == 1});
        return out;
    }

    Result<std::vector<Lease>> claim(const std::string& worker, std::size_t max, Millis lease,
                                     const std::vector<std::string>& agents) override
    {
        auto now = now_ms();
        std::vector<std::string> args = {worker, std::to_string(lease.count()), std::to_string(max)};
        args.insert(args.end(), agents.begin(), agents.end());
        auto r = run(s_claim, std::move(args), now);
        if (!r) return r.error();
        if (r->elements.size() != 3) return fail(Errc::internal, "'" + m_where + "': unexpected claim reply");
        const auto& expired = r->elements[0].elements;
        if (m_opt.events)
            for (std::size_t i = 0; i + 1 < expired.size(); i += 2) {
                std::string state = expired[i + 1].str;
                m_opt.events->emit({state == "dead" ? "task.dead" : "task.retried",
                                    expired[i].str,
                                    "",
                                    {{"reason", "lease expired"}, {"state", state}}});
            }
        std::int64_t until = r->elements[1].as_int();
        const auto& taken = r->elements[2].elements;
        std::vector<Lease> out;
        std::vector<std::vector<std::string>> reads;
        for (std::size_t i = 0; i + 2 < taken.size(); i += 3) {
            Lease l;
            l.id = taken[i].str;
            l.token = taken[i + 1].as_int();
            l.attempt = static_cast<int>(taken[i + 2].as_int());
            l.lease_until_ms = until;
            l.claimed_ms = now;
            reads.push_back({"HMGET", m_addr.prefix + "t:" + l.id, "task", "decision", "maxatt", "avail"});
            out.push_back(std::move(l));
        }
        if (!reads.empty()) {
            // The rest, in one more round trip. Under the lease only its
            // holder can change the task; a task cancelled and purged
            // meanwhile has none of it left, and is not handed out.
            auto c = take();
            if (!c) return c.error();
            auto p = (*c)->pipeline(reads);
            if (!p) return p.error();
            std::size_t kept = 0;
            for (std::size_t i = 0; i < out.size(); ++i) {
                const Reply& fields = (*p)[i];
                if (fields.elements.size() != 4 || fields.elements[0].is_nil()) continue;
                out[i].task = from_cbor(fields.elements[0].str);
                out[i].decision = from_cbor(fields.elements[1].str);
                out[i].max_attempts = static_cast<int>(fields.elements[2].as_int());
                out[i].ready_ms = fields.elements[3].as_int();
                if (kept != i) out[kept] = std::move(out[i]);
                ++kept;
            }
            out.resize(kept);
        }
        return out;
    }

    Status heartbeat(const std::string& id, std::int64_t token, Millis lease) override
    {
        return fenced(id, token, run(s_heartbeat, {id, std::to_string(token), std::to_string(lease.count())}));
    }

    Status ack(const std::string& id, std::int64_t token, const json& result) override
    {
        return ack_batch({{id, token, result, {}}}).front();
    }

    std::vector<Status> ack_batch(const std::vector<Ack>& acks) override
    {
        std::vector<std::string> args;
        for (const auto& a : acks) {
            bool none = a.result.is_null() || (a.result.is_object() && a.result.empty());
            args.insert(args.end(), {a.id, std::to_string(a.token), none ? std::string() : cbor_bytes(a.result)});
        }
        std::vector<Status> out(acks.size());
        auto r = run(s_ack, std::move(args));
        for (std::size_t i = 0; i < acks.size(); ++i) {
            if (!r) out[i] = r.error();
            else if (i < r->elements.size()) out[i] = fenced(acks[i].id, acks[i].token, r->elements[i]);
            else out[i] = fail(Errc::internal, "'" + m_where + "': short ack reply");
        }
        return out;
    }

    Result<State> nack(const std::string& id, std::int64_t token, const std::string& error, const Backoff& backoff,
                       bool retry) override
    {
        // The attempt count decides the backoff; it cannot change under a
        // lease this worker holds, which the script checks.
        auto c = take();
        if (!c) return c.error();
        auto fields = (*c)->command({"HMGET", m_addr.prefix + "t:" + id, "att", "maxatt"});
        if (!fields) return fields.error();
        if (fields->elements.size() != 2 || fields->elements[0].is_nil()) return lost_lease(id, token, std::nullopt, 0);
        int attempts = static_cast<int>(fields->elements[0].as_int());
        bool dead = !retry || attempts >= static_cast<int>(fields->elements[1].as_int());
        State next = dead ? State::dead : State::queued;
        auto r = run(s_nack, {id, std::to_string(token), error.substr(0, 4096), std::string(to_string(next)),
                              std::to_string(dead ? 0 : backoff.delay(attempts).count())});
        if (auto st = fenced(id, token, r); !st) return st.error();
        return next;
    }

    Status release(const std::string& id, std::int64_t token) override
    {
        return fenced(id, token, run(s_release, {id, std::to_string(token)}));
    }

    Status defer(const std::string& id, std::int64_t token, Millis delay, const std::string& reason) override
    {
        return fenced(id, token,
                      run(s_defer, {id, std::to_string(token), reason.substr(0, 4096), std::to_string(delay.count())}));
    }

    Status redecide(const std::string& id, std::int64_t token, State to, const json& decision,
                    const std::string& reason) override
    {
        if (to != State::denied && to != State::pending_approval)
            return fail(Errc::internal, "redecide moves a task to denied or pending-approval only");
        return fenced(
            id, token,
            run(s_redecide, {id, std::to_string(token), std::string(to_string(to)), reason,
                             core::array_member(decision, "requiredApprovals").dump(), cbor_bytes(decision)}));
    }

    Result<State> approve(const std::string& id, const std::string& group, const std::string& by) override
    {
        for (int attempt = 0; attempt < 50; ++attempt) {
            auto c = take();
            if (!c) return c.error();
            auto f = (*c)->command({"HMGET", m_addr.prefix + "t:" + id, "state", "req", "appr"});
            if (!f) return f.error();
            if (f->elements.size() != 3 || f->elements[0].is_nil())
                return fail(Errc::not_found, "no task " + text::quote(id));
            std::string before = or_default(f->elements[2], "[]");
            json approvals = json::parse(before, nullptr, false);
            auto next = add_approval(id, f->elements[0].str, strings_of(or_default(f->elements[1], "[]")), approvals,
                                     group, by, now_ms());
            if (!next) return next.error();
            auto r = run(s_approve, {id, before, approvals.dump(), std::string(to_string(*next))});
            if (!r) return r.error();
            if (r->as_int() == 1) return *next;
            // Another approval (or a cancel) came in between: read again.
        }
        return fail(Errc::unavailable, "task " + text::quote(id) + ": too many concurrent approvals, try again");
    }

    Status reject(const std::string& id, const std::string& by, const std::string& reason) override
    {
        auto r = run(s_reject, {id, "rejected by " + by + (reason.empty() ? "" : ": " + reason)});
        return state_reply(id, r, "waiting for approval");
    }

    Status retry(const std::string& id) override
    {
        auto r = run(s_retry, {id});
        if (r && r->type == Reply::Type::integer && r->integer == 0)
            return fail(Errc::conflict,
                        "cannot retry task " + text::quote(id) + ": another unfinished task has its dedupe key");
        return state_reply(id, r, "dead or cancelled");
    }

    Status cancel(const std::string& id) override { return state_reply(id, run(s_cancel, {id}), "unfinished"); }

    Result<std::int64_t> purge(Millis retention, const std::vector<State>& states) override
    {
        if (auto in = purgeable_states(states); !in) return in.error();
        std::vector<std::string> args = {std::to_string(now_ms() - retention.count())};
        for (State s : states.empty()
                           ? std::vector<State>{State::succeeded, State::dead, State::cancelled, State::denied}
                           : states)
            args.emplace_back(to_string(s));
        auto r = run(s_purge, std::move(args));
        if (!r) return r.error();
        return r->as_int();
    }

    Result<std::vector<Entry>> list(const ListFilter& f) override
    {
        auto c = take();
        if (!c) return c.error();
        // Newest first: the states' sets merged by sequence number, each read
        // a page at a time below the last sequence number taken from it. The
        // leased (never more than the workers hold) are read whole, from
        // leases, and sorted here.
        struct Source {
            std::string set;                                         ///< empty: the leased
            std::vector<std::pair<std::int64_t, std::string>> page;  ///< newest last
            std::string below = "+inf";
            bool done = false;
        };
        std::vector<Source> sources;
        auto states = f.states.empty() ? std::vector<State>{State::pending_approval,
                                                            State::queued,
                                                            State::leased,
                                                            State::succeeded,
                                                            State::dead,
                                                            State::cancelled,
                                                            State::denied}
                                       : f.states;
        for (State s : states)
            sources.push_back({s == State::leased ? "" : m_addr.prefix + "st:" + std::string(to_string(s)), {}});
        // With a type filter, read on until enough match.
        std::size_t want = std::min<std::size_t>(f.type.empty() ? f.limit : f.limit * 4 + 64, 10000);
        auto refill = [&](Source& src) -> Status {
            if (!src.set.empty()) {
                auto r = (*c)->command(
                    {"ZREVRANGEBYSCORE", src.set, src.below, "-inf", "WITHSCORES", "LIMIT", "0", std::to_string(want)});
                if (!r) return r.error();
                for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2)
                    src.page.emplace_back(r->elements[i + 1].as_int(), r->elements[i].str);
                src.done = src.page.size() < want;
                std::reverse(src.page.begin(), src.page.end());
            } else {
                auto r = (*c)->command({"ZRANGE", m_addr.prefix + "leases", "0", "-1"});
                if (!r) return r.error();
                std::vector<std::vector<std::string>> seqs;
                for (const auto& e : r->elements) seqs.push_back({"HGET", m_addr.prefix + "t:" + e.str, "seq"});
                auto got = (*c)->pipeline(seqs);
                if (!got) return got.error();
                for (std::size_t i = 0; i < r->elements.size(); ++i)
                    if (!(*got)[i].is_nil()) src.page.emplace_back((*got)[i].as_int(), r->elements[i].str);
                std::sort(src.page.begin(), src.page.end());
                src.done = true;
            }
            return {};
        };
        std::vector<Entry> out;
        while (out.size() < f.limit) {
            Source* next = nullptr;
            for (auto& src : sources) {
                if (src.page.empty() && !src.done)
                    if (auto st = refill(src); !st) return st.error();
                if (!src.page.empty() && (!next || src.page.back().first > next->page.back().first)) next = &src;
            }
            if (!next) break;
            auto [seq, id] = std::move(next->page.back());
            next->page.pop_back();
            next->below = "(" + std::to_string(seq);
            auto e = fetch(**c, id, false);
            if (!e) return e.error();
            if (!*e) continue;  // purged meanwhile
            if (!f.type.empty() && (*e)->type != f.type) continue;
            out.push_back(std::move(**e));
        }
        return out;
    }

    Result<Entry> show(const std::string& id) override
    {
        auto c = take();
        if (!c) return c.error();
        auto exact = fetch(**c, id, true);
        if (!exact) return exact.error();
        if (*exact) return std::move(**exact);
        // A unique prefix is enough, like a short git hash.
        auto r = (*c)->command({"ZRANGEBYLEX", m_addr.prefix + "lex", "[" + id, "[" + id + "\xff", "LIMIT", "0", "2"});
        if (!r) return r.error();
        if (r->elements.empty()) return fail(Errc::not_found, "no task " + text::quote(id) + " in the queue");
        if (r->elements.size() > 1) return fail(Errc::usage, "task id prefix " + text::quote(id) + " is ambiguous");
        auto e = fetch(**c, r->elements[0].str, true);
        if (!e) return e.error();
        if (!*e) return fail(Errc::not_found, "no task " + text::quote(id) + " in the queue");
        return std::move(**e);
    }

    Result<Stats> stats() override
    {
        auto now = now_ms();
        auto r = run(s_stats, {}, now);
        if (!r) return r.error();
        if (r->elements.size() != 4) return fail(Errc::internal, "'" + m_where + "': unexpected stats reply");
        Stats st;
        for (const auto& e : r->elements[0].elements) st.by_state[e.elements.at(0).str] = e.elements.at(1).as_int();
        st.delayed = r->elements[1].as_int();
        st.ready = (st.by_state.count("queued") ? st.by_state["queued"] : 0) - st.delayed;
        st.expired_leases = r->elements[2].as_int();
        std::int64_t oldest = r->elements[3].as_int();
        st.oldest_ready_ms = oldest && st.ready > 0 ? now - oldest : 0;
        return st;
    }

    Status publish_events(const std::vector<std::string>& lines) override
    {
        if (lines.empty()) return {};
        auto c = take();
        if (!c) return c.error();
        // One round trip for the batch (MULTI ... EXEC keeps it together).
        std::vector<std::vector<std::string>> cmds;
        cmds.push_back({"MULTI"});
        for (const auto& l : lines) cmds.push_back({"XADD", m_addr.prefix + "events", "*", "e", l});
        cmds.push_back({"EXEC"});
        auto r = (*c)->pipeline(cmds);
        if (!r) return r.error();
        const Reply& exec = r->back();
        if (exec.type != Reply::Type::array || exec.elements.size() != lines.size())
            return fail(Errc::unavailable, "'" + m_where + "': events were not appended" +
                                               (exec.type == Reply::Type::error ? ": " + exec.str : std::string()));
        return {};
    }

    Result<std::size_t> consume_events(std::size_t max,
                                       const std::function<Status(const std::vector<StreamEvent>&)>& apply) override
    {
        auto c = take();
        if (!c) return c.error();
        auto r = (*c)->command({"XRANGE", m_addr.prefix + "events", "-", "+", "COUNT", std::to_string(max)});
        if (!r) return r.error();
        if (r->type != Reply::Type::array || r->elements.empty()) return std::size_t{0};
        std::vector<StreamEvent> events;
        std::vector<std::string> ids = {"XDEL", m_addr.prefix + "events"};
        for (const auto& e : r->elements) {
            if (e.elements.size() != 2) continue;
            ids.push_back(e.elements[0].str);
            const auto& fields = e.elements[1].elements;
            for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
                if (fields[i].str == "e") events.emplace_back(e.elements[0].str, fields[i + 1].str);
        }
        if (auto st = apply(events); !st) return st.error();
        auto d = (*c)->command(ids);
        if (!d) return d.error();
        return events.size();
    }

    bool wait_for_work(Millis max) override
    {
        m_wakeups.wait(max, [this](Millis max) {
            if (!m_listener) {
                auto c = m_pool.open();
                if (c && (*c)->send({"SUBSCRIBE", m_addr.prefix + "wake"})) m_listener = std::move(*c);
                m_subscribed = false;
            }
            if (!m_listener) {
                std::this_thread::sleep_for(max);  // the server is away: poll
                return false;
            }
            auto deadline = std::chrono::steady_clock::now() + max;
            for (;;) {
                // Rounded up: truncated, a wait under 2 ms would end at once.
                auto left = std::chrono::ceil<Millis>(deadline - std::chrono::steady_clock::now()).count();
                if (left <= 0) return false;
                auto got = m_listener->wait_for_push(static_cast<int>(left));
                if (!got) {
                    m_listener.reset();  // reconnect next time
                    return false;
                }
                if (!*got) return false;
                // The first push confirms the subscription; later ones are wake-ups.
                if (m_subscribed) return true;
                m_subscribed = true;
            }
        });
        return true;
    }

private:
    Result<Pool<Conn>::Held> take() { return m_pool.take(); }

    /// One command on a connection of the pool's.
    Result<Reply> command(const std::vector<std::string>& args)
    {
        auto c = take();
        if (!c) return c.error();
        return (*c)->command(args);
    }

    /// Claims the prefix for this layout of keys, or refuses one that keys of
    /// another layout hold (an earlier infra-agent's queue, which this one
    /// would misread).
    Status check_layout()
    {
        auto r = run(s_layout, {k_layout});
        if (!r) return r.error();
        const std::string& found = r->str;
        if (found == k_layout) return {};
        return fail(Errc::unavailable,
                    "'" + m_where + "': the keys under prefix " + text::quote(m_addr.prefix) + " are in layout " +
                        found + ", written by another version of infra-agent; this one reads layout " + k_layout,
                    "finish that queue's tasks with the version that wrote it, or give this queue another prefix "
                    "(?prefix=NAME)");
    }

    /// Runs a script; with `staged`, after those commands (which write what
    /// the script takes up) in one MULTI ... EXEC, so that no other client
    /// sees what they wrote before the script has run.
    Result<Reply> run(const Script& s, std::vector<std::string> args, std::int64_t now = 0,
                      std::vector<std::vector<std::string>> staged = {})
    {
        auto c = take();
        if (!c) return c.error();
        std::vector<std::string> cmd = {"EVALSHA", s.sha(), "0", m_addr.prefix, std::to_string(now ? now : now_ms())};
        cmd.insert(cmd.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
        if (!staged.empty()) {
            staged.insert(staged.begin(), {"MULTI"});
            staged.push_back(std::move(cmd));
            staged.push_back({"EXEC"});
        }
        auto once = [&]() -> Result<Reply> {
            if (staged.empty()) return (*c)->command(cmd);
            auto replies = (*c)->pipeline(staged);
            if (!replies) return replies.error();
            Reply& exec = replies->back();
            if (exec.type != Reply::Type::array || exec.elements.size() != staged.size() - 2) return std::move(exec);
            return std::move(exec.elements.back());
        };
        auto r = once();
        if (r && r->type == Reply::Type::error && r->str.rfind("NOSCRIPT", 0) == 0) {
            auto load = (*c)->command({"SCRIPT", "LOAD", s.body()});
            if (!load) return load.error();
            if (load->type == Reply::Type::error) return fail(Errc::internal, "'" + m_where + "': " + load->str);
            r = once();
        }
        if (!r) return r.error();
        if (r->type == Reply::Type::error) return fail(Errc::unavailable, "'" + m_where + "': " + r->str);
        return r;
    }

    /// 1: done; {state, fence}: refused by the fencing check.
    Status fenced(const std::string& id, std::int64_t token, const Result<Reply>& r)
    {
        if (!r) return r.error();
        return fenced(id, token, *r);
    }
    Status fenced(const std::string& id, std::int64_t token, const Reply& r)
    {
        if (r.type == Reply::Type::integer && r.integer == 1) return {};
        if (r.type != Reply::Type::array || r.elements.size() != 2)
            return fail(Errc::internal, "'" + m_where + "': unexpected reply");
        const std::string& state = r.elements[0].str;
        return lost_lease(id, token, state.empty() ? std::nullopt : std::optional<std::string>(state),
                          r.elements[1].as_int());
    }

    /// 1: done; {state}: the task is in another state ('' gone).
    Status state_reply(const std::string& id, const Result<Reply>& r, const std::string& wanted)
    {
        if (!r) return r.error();
        if (r->type == Reply::Type::integer && r->integer == 1) return {};
        std::string state = r->elements.empty() ? "" : r->elements[0].str;
        return wrong_state(id, state.empty() ? std::nullopt : std::optional<std::string>(state), wanted);
    }

    Result<std::optional<Entry>> fetch(Conn& c, const std::string& id, bool full)
    {
        std::vector<std::string> cmd = {"HMGET", m_addr.prefix + "t:" + id};
        cmd.insert(cmd.end(), k_fields.begin(), k_fields.end());
        if (full) cmd.insert(cmd.end(), {"task", "decision", "result"});
        auto r = c.command(cmd);
        if (!r) return r.error();
        const auto& v = r->elements;
        if (v.size() != cmd.size() - 2 || v[0].is_nil()) return std::optional<Entry>();
        Entry e;
        e.id = id;
        e.state = parse_state(v[0].str).value_or(State::queued);
        e.type = v[1].str;
        e.agent = v[2].str;
        e.dedupe_key = v[3].str;
        e.priority = static_cast<Priority>(std::clamp<std::int64_t>(v[4].as_int(), 0, 3));
        e.attempts = static_cast<int>(v[5].as_int());
        e.max_attempts = static_cast<int>(v[6].as_int());
        e.created_ms = v[7].as_int();
        e.updated_ms = v[8].is_nil() ? e.created_ms : v[8].as_int();
        e.available_ms = v[9].as_int();
        if (e.state == State::leased) {
            e.lease_until_ms = v[10].as_int();
            e.lease_owner = v[11].str;
        }
        e.last_error = v[12].str;
        e.required_approvals = strings_of(or_default(v[13], "[]"));
        e.approvals = json::parse(or_default(v[14], "[]"), nullptr, false);
        e.fence = v[15].as_int();
        if (full) {
            e.task = from_cbor(v[16].str);
            e.decision = from_cbor(v[17].str);
            if (!v[18].is_nil()) e.result = from_cbor(v[18].str);
        }
        return std::optional<Entry>(std::move(e));
    }

    static inline const Script s_enqueue{k_enqueue}, s_claim{k_claim}, s_heartbeat{k_heartbeat}, s_ack{k_ack},
        s_nack{k_nack}, s_release{k_release}, s_defer{k_defer}, s_redecide{k_redecide}, s_approve{k_approve},
        s_reject{k_reject}, s_retry{k_retry}, s_cancel{k_cancel}, s_purge{k_purge}, s_stats{k_stats},
        s_layout{k_layout_check};

    redis::Address m_addr;
    std::string m_where;
    OpenOptions m_opt;
    Pool<Conn> m_pool;
    Wakeups m_wakeups;
    std::unique_ptr<Conn> m_listener;  ///< SUBSCRIBEd; used by the thread in m_wakeups.wait only
    bool m_subscribed = false;
};

}  // namespace

Result<std::unique_ptr<Queue>> open_redis_url(const std::string& url, const OpenOptions& options)
{
    auto a = redis::parse_url(url);
    if (!a) return a.error();
    auto q = std::make_unique<RedisQueue>(*a, text::redact_url(url), options);
    if (auto st = q->init(); !st) return st.error();
    return std::unique_ptr<Queue>(std::move(q));
}

}  // namespace infra::plugins::queues
