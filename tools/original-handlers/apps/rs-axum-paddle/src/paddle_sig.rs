use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{SystemTime, UNIX_EPOCH};

const MAX_AGE_SECS: i64 = 5;

pub fn verify(raw_body: &[u8], header: &str, secret: &str) -> bool {
    let mut ts = None;
    let mut h1 = None;
    for part in header.split(';') {
        match part.split_once('=') {
            Some(("ts", v)) => ts = v.parse::<i64>().ok(),
            Some(("h1", v)) => h1 = Some(v.to_string()),
            _ => {}
        }
    }
    let (Some(ts), Some(h1)) = (ts, h1) else { return false };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    if (now - ts).abs() > MAX_AGE_SECS {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}:").as_bytes());
    mac.update(raw_body);
    hex::encode(mac.finalize().into_bytes()) == h1
}
