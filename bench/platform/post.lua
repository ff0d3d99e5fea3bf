-- wrk script: POST a new platform per request. WRK_DELAY_MS paces each
-- connection (bench/run's soak: connections x 1000 / delay requests/s at most).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/platforms",
    nil, '{"name":"bench-' .. counter .. '","publisher":"wrk","cost":"Free"}')
end
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pause then
  delay = function() return pause end
end
