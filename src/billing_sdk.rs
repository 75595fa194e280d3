//! Marks of a billing provider's SDK or framework in source text, shared by
//! webhook handler detection and key mode (billing code that reads no key).

/// Imports, namespaces and framework names of the Stripe, Paddle and Lemon
/// Squeezy SDKs in every language billguard reads.
const MARKS: &[&str] = &[
    // JavaScript / TypeScript, Python
    "from 'stripe'", "from \"stripe\"", "require('stripe')", "require(\"stripe\")", "import stripe", "from stripe", "@paddle/",
    "paddle_billing", "lemonsqueezy", "djstripe",
    // Ruby, Go, PHP, Rust, Elixir SDKs and frameworks
    "Stripe::", "StripeEvent", "stripe-go", "paddle-go-sdk", "Stripe\\", "Laravel\\Cashier", "Laravel\\Paddle", "Paddle\\SDK",
    "use stripe::", "stripe::{", "Stripe.Webhook", "Stripe.Event", "Stripe.WebhookPlug", "Stripe.Customer",
];

/// Whether the text uses a billing SDK.
pub fn uses_billing_sdk(text: &str) -> bool {
    MARKS.iter().any(|m| text.contains(m))
}
