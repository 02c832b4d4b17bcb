// Runs the real @auth/sequelize-adapter against a database, for peewee-authjs's interop tests.
//
//   node authjs.mjs <database-url> <operation> < args.json
//   node authjs.mjs <database-url> batch < [{"op": "...", "args": [...]}, ...]
//   node authjs.mjs --serve      (one request per stdin line: {"url": ..., "ops": [...]}; one reply line each)
//
// <database-url> is the URL the Python side uses: sqlite:////abs/path.db, postgresql://user@host:port/db,
// mysql://user@host:port/db. The adapter is built the way a Next.js app sharing the database builds it:
// SequelizeAdapter(sequelize, { synchronize: false }); the operation `sync` runs sequelize.sync().
//
// Input and output are JSON. A JS Date is written as {"$date": "<ISO 8601 with ms, Z>"} both ways; a Date
// that the adapter returns invalid (Invalid Date) comes out as {"$invalidDate": true}, `undefined` as
// {"$undefined": true}. Sequelize model instances are printed as their plain values. The output is
// {"results": [{"ok": value} | {"error": {"name", "message"}}, ...]}, one entry per operation, in order;
// an operation that throws does not stop the batch.

import SequelizeAdapter from "@auth/sequelize-adapter"
import { Sequelize } from "sequelize"
import { createInterface } from "node:readline"

// The hashing and token generation of @auth/core itself (not exported by the package: import the file).
const web = await import(new URL("./lib/utils/web.js", import.meta.resolve("@auth/core")).href)
const { createHash, randomString } = web

const ADAPTER_METHODS = new Set([
  "createUser", "getUser", "getUserByEmail", "getUserByAccount", "updateUser", "deleteUser",
  "linkAccount", "unlinkAccount", "createSession", "getSessionAndUser", "updateSession",
  "deleteSession", "createVerificationToken", "useVerificationToken",
])

/** Sequelize options for a database URL as the Python side writes it. */
function sequelizeOptions(url) {
  const common = { logging: process.env.INTEROP_SQL ? (sql) => process.stderr.write(sql + "\n") : false }
  if (url.startsWith("sqlite://")) {
    // As peewee reads it: sqlite:////abs/path.db is /abs/path.db, sqlite:///rel.db is rel.db (from the cwd).
    const storage = decodeURIComponent(url.slice("sqlite://".length).split("?")[0].replace(/^\//, ""))
    return { ...common, dialect: "sqlite", storage }
  }
  const parsed = new URL(url)
  const dialects = { "postgres:": "postgres", "postgresql:": "postgres", "mysql:": "mysql" }
  const dialect = dialects[parsed.protocol]
  if (!dialect) throw new Error(`unsupported database URL scheme ${parsed.protocol}`)
  return {
    ...common,
    dialect,
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : undefined,
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password) || undefined,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")),
  }
}

function decode(value) {
  if (Array.isArray(value)) return value.map(decode)
  if (value && typeof value === "object") {
    if (typeof value.$date === "string") return new Date(value.$date)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]))
  }
  return value
}

function encode(value) {
  if (value === undefined) return { $undefined: true }
  if (value instanceof Date) {
    return Number.isNaN(value.valueOf()) ? { $invalidDate: true } : { $date: value.toISOString() }
  }
  if (Array.isArray(value)) return value.map(encode)
  if (value && typeof value === "object") {
    if (typeof value.get === "function" && value.dataValues) return encode(value.get({ plain: true }))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]))
  }
  return value
}

async function perform(sequelize, adapter, op, args) {
  if (ADAPTER_METHODS.has(op)) return await adapter[op](...args)
  switch (op) {
    case "sync":
      if (args[0] === "models") {
        // What the adapter itself does when `synchronize` is on: every model's sync() at once.
        await Promise.all(Object.values(sequelize.models).map((model) => model.sync()))
      } else {
        // What an app does to create the tables: sequelize.sync() orders them by dependency.
        await sequelize.sync()
      }
      return null
    case "findAll": {
      // Read rows through the adapter's own models (the adapter has no getter for accounts/tokens).
      const [model, where] = args
      return await sequelize.models[model].findAll({ where: where ?? {}, order: [[sequelize.models[model].primaryKeyAttribute, "ASC"]] })
    }
    case "hash":
      return await createHash(args[0])
    case "issueMagicLink": {
      // @auth/core's signin/send-token.ts: raw token, stored sha256(token + secret), expiry in maxAge s.
      const [{ identifier, secret, maxAge = 24 * 60 * 60 }] = args
      const token = randomString(32)
      const expires = new Date(Date.now() + maxAge * 1000)
      const stored = await adapter.createVerificationToken({
        identifier, token: await createHash(`${token}${secret}`), expires,
      })
      return { token, stored }
    }
    case "consumeMagicLink": {
      // @auth/core's callback/index.ts for the email provider; with `signIn`, also what
      // handle-login.ts then does for an e-mail sign-in (user verified or created, new session).
      const [{ identifier, token, secret, signIn = false, maxAge = 30 * 24 * 60 * 60 }] = args
      const invite = await adapter.useVerificationToken({
        identifier, token: await createHash(`${token}${secret}`),
      })
      const expired = !!invite && invite.expires.valueOf() < Date.now()
      const accepted = !!invite && !expired && !(identifier && invite.identifier !== identifier)
      if (!accepted || !signIn) return { accepted, expired, invite }
      const email = invite.identifier
      const existing = await adapter.getUserByEmail(email)
      const user = existing
        ? await adapter.updateUser({ id: existing.id, emailVerified: new Date() })
        : await adapter.createUser({ id: crypto.randomUUID(), email, emailVerified: new Date() })
      const session = await adapter.createSession({
        sessionToken: crypto.randomUUID(), userId: user.id, expires: new Date(Date.now() + maxAge * 1000),
      })
      return { accepted, expired, invite, user, session }
    }
    default:
      throw new Error(`unknown operation ${op}`)
  }
}

/** Run `ops` on a fresh Sequelize connection to `url`; the list of their outcomes. */
async function runBatch(url, ops) {
  const sequelize = new Sequelize(sequelizeOptions(url))
  const adapter = SequelizeAdapter(sequelize, { synchronize: false })
  const results = []
  try {
    for (const { op: name, args = [] } of decode(ops)) {
      try {
        results.push({ ok: encode(await perform(sequelize, adapter, name, args)) })
      } catch (error) {
        results.push({ error: { name: error?.name ?? "Error", message: String(error?.message ?? error) } })
      }
    }
  } finally {
    await sequelize.close()
  }
  return results
}

async function serve() {
  // The test suite keeps one process and sends it every batch: node and the packages load once.
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    if (!line.trim()) continue
    let reply
    try {
      const { url, ops } = JSON.parse(line)
      reply = { results: await runBatch(url, ops) }
    } catch (error) {
      reply = { failure: String(error?.stack ?? error) }
    }
    process.stdout.write(JSON.stringify(reply) + "\n")
  }
}

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const text = Buffer.concat(chunks).toString("utf8").trim()
  return text ? JSON.parse(text) : []
}

async function main() {
  const [url, op] = process.argv.slice(2)
  if (url === "--serve") return await serve()
  if (!url || !op) {
    process.stderr.write("usage: node authjs.mjs <database-url> <operation|batch> < args.json | node authjs.mjs --serve\n")
    process.exit(2)
  }
  const input = await readStdin()
  const ops = op === "batch" ? input : [{ op, args: input }]
  process.stdout.write(JSON.stringify({ results: await runBatch(url, ops) }) + "\n")
}

await main()
