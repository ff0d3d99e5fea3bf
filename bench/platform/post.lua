-- wrk script: POST a new platform per request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/platforms",
    nil, '{"name":"bench-' .. counter .. '","publisher":"wrk","cost":"Free"}')
end
