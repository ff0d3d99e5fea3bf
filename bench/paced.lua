-- wrk script: each connection waits WRK_DELAY_MS after each answer
-- (bench/run's soak: connections x 1000 / delay requests/s at most).
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")
delay = function() return pause end
