-- wrk script: durable POST /orders of one item each, users u0 to u99 and products 1 to
-- ORDER_PRODUCTS (default 1000) in turn; with ORDER_DELAY_MS set, each connection waits that
-- long between requests. bench/lib.sh names it BENCH_ORDERS_LUA.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local products = tonumber(os.getenv("ORDER_PRODUCTS") or "1000")
local pause_ms = tonumber(os.getenv("ORDER_DELAY_MS") or "0")
local counter = 0

request = function()
  counter = counter + 1
  local body = string.format('{"userId":"u%d","items":[{"productId":%d,"quantity":1}]}',
                             counter % 100, counter % products + 1)
  return wrk.format(nil, "/orders", nil, body)
end

if pause_ms > 0 then
  delay = function() return pause_ms end
end
