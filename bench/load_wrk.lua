-- wrk driver for the public JSON API: one appeal per request, each with its own text and phone
-- (the same seven problems at seven places as bench/load_locust.py, plus a serial number).
-- wrk costs a fraction of locust's CPU per request, so on a small machine the server keeps the
-- cores. Run by bench/load_run.sh with LOAD_DRIVER=wrk; alone:
--   wrk -t2 -c16 -d120s -s bench/load_wrk.lua http://127.0.0.1:8077
-- done() prints one JSON line: throughput, p50/p95/p99 (ms), non-201 answers, socket errors.

local places = {"计划路菜市场", "碧沙岗公园北门", "伊河路26号院", "建设路与伏牛路交叉口", "秦岭路中段", "桐柏路小学门口", "陇海路高架桥下"}
local problems = {
  "门口垃圾三天没人清运，气味很大，请尽快处理",
  "路灯坏了好几天，晚上很黑不安全",
  "下水道堵塞，污水漫到路面上",
  "小区停水两天了，没有任何通知",
  "有人占道经营，早上堵得走不了",
  "楼下饭店油烟太大，窗户都不敢开",
  "人行道井盖缺失，老人孩子容易掉进去",
}

local threads = {}
local next_thread = 1

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  serial = 0
  not_created = 0
  math.randomseed(os.time() * 100 + tid)
end

function request()
  serial = serial + 1
  local place = places[math.random(#places)]
  local body = string.format('{"text": "%s%s（%d-%d）", "address": "%s", "name": "测试", "phone": "13%09d"}',
    place, problems[math.random(#problems)], tid, serial, place, math.random(0, 999999999))
  return wrk.format("POST", "/api/v1/public/appeals", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status ~= 201 then
    not_created = not_created + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_created")
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    'LOAD_SUMMARY {"driver": "wrk", "seconds": %.1f, "requests": %d, "submissions_ok": %d, "submissions_per_s": %.1f, '
    .. '"errors": %d, "not_201": %d, "socket_errors": %d, "p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f, "mean_ms": %.1f}\n',
    seconds, summary.requests, summary.requests - bad, (summary.requests - bad) / seconds,
    bad + socket_errors, bad, socket_errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
