/** Word lists the generator draws from. Values are invented; their shapes follow real Segment archives. */

export const firstNames = [
  "Ana", "Björn", "Chloé", "Dmitri", "Eleni", "François", "Grace", "Hiroshi", "Ines", "Jürgen",
  "Kofi", "Léa", "Mateo", "Nadia", "Oluwaseun", "Priya", "Quentin", "Rosa", "Søren", "Tomás",
  "Uma", "Vikram", "Wen", "Ximena", "Yusuf", "Zoë", "陽菜", "Олег", "محمد", "Saanvi",
] as const;

export const lastNames = [
  "Almeida", "Brontë", "Castillo", "Dubois", "Eriksen", "Fernández", "García", "Hoffmann", "Ito",
  "Jansen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrov", "Quispe", "Rossi",
  "Schäfer", "Tanaka", "Ueda", "Van der Berg", "Wójcik", "Xu", "Yılmaz", "Zhang", "田中", "Иванова",
] as const;

export const companies = [
  { name: "Initrode", domain: "initrode.example.com", industry: "Technology", employees: 329 },
  { name: "Globex", domain: "globex.example.com", industry: "Manufacturing", employees: 1200 },
  { name: "Umbrella Labs", domain: "umbrella.example.com", industry: "Biotech", employees: 87 },
  { name: "Hooli", domain: "hooli.example.com", industry: "Technology", employees: 45000 },
  { name: "Pied Piper", domain: "piedpiper.example.com", industry: "Software", employees: 14 },
  { name: "Vandelay Industries", domain: "vandelay.example.com", industry: "Import/Export", employees: 52 },
  { name: "Soylent Café", domain: "soylent.example.com", industry: "Food & Beverage", employees: 610 },
  { name: "Wayne Enterprises", domain: "wayne.example.com", industry: "Conglomerate", employees: 98000 },
] as const;

export const plans = ["free", "starter", "pro", "business", "enterprise"] as const;

/** Event names weighted as B2B products see them: many page-level actions, few purchases. */
export const trackEventNames = [
  ["Button Clicked", 14],
  ["Feature Used", 12],
  ["Report Viewed", 9],
  ["Search Performed", 8],
  ["Dashboard Loaded", 8],
  ["Signed In", 6],
  ["Invite Sent", 3],
  ["Form Submitted", 5],
  ["File Exported", 4],
  ["Order Completed", 3],
  ["Product Added", 4],
  ["Trial Started", 1],
  ["Subscription Upgraded", 1],
  ["Audience Entered", 1],
  ["Video Playback Started", 3],
] as const;

export const pages = [
  { path: "/", title: "Home" },
  { path: "/pricing", title: "Pricing | Acme" },
  { path: "/docs/getting-started", title: "Getting started — Docs" },
  { path: "/blog/why-we-rewrote-our-pipeline", title: "Why we rewrote our pipeline" },
  { path: "/app/dashboard", title: "Dashboard" },
  { path: "/app/reports/weekly", title: "Weekly report" },
  { path: "/app/settings/team", title: "Team settings" },
  { path: "/customers/globex", title: "Globex × Acme: a case study" },
  { path: "/careers", title: "Careers at Acme" },
  { path: "/de/preise", title: "Preise – Acme" },
] as const;

export const referrers = [
  "", "https://www.google.com/", "https://news.ycombinator.com/", "https://www.linkedin.com/",
  "https://duckduckgo.com/", "https://acme.example.com/blog/",
] as const;

export const userAgents = [
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.0.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
] as const;

export const locales = ["en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "pt-BR", "en-IN", "es-MX"] as const;

export const timezones = [
  "America/Los_Angeles", "America/New_York", "Europe/Berlin", "Europe/Paris", "Asia/Tokyo",
  "America/Sao_Paulo", "Asia/Kolkata", "America/Mexico_City", "Africa/Accra",
] as const;

export const currencies = [
  ["USD", "$"], ["EUR", "€"], ["INR", "₹"], ["GBP", "£"], ["JPY", "¥"],
] as const;

export const searchTerms = [
  "churn by cohort", "export csv", "señal débil", "sso setup", "会議 メモ", "weekly active users",
  "api rate limit", "😀 emoji support", "webhooks retries", "pricing tiers",
] as const;

export const mobileDevices = [
  { type: "ios", manufacturer: "Apple", model: "iPhone15,2", osName: "iOS", osVersion: "17.4.1", library: "analytics-ios", libraryVersion: "4.1.8" },
  { type: "ios", manufacturer: "Apple", model: "iPad13,4", osName: "iPadOS", osVersion: "16.7", library: "analytics-swift", libraryVersion: "1.5.11" },
  { type: "android", manufacturer: "Google", model: "Pixel 8", osName: "Android", osVersion: "14", library: "analytics-android", libraryVersion: "4.11.3" },
  { type: "android", manufacturer: "samsung", model: "SM-S918B", osName: "Android", osVersion: "13", library: "analytics-kotlin", libraryVersion: "1.14.2" },
] as const;

export const carriers = ["T-Mobile US", "Vodafone DE", "Jio", "Orange F", "NTT DOCOMO", ""] as const;
