require "openssl"

module PaddleSignature
  MAX_AGE = 5

  def self.valid?(raw_body, header, secret)
    return false if header.blank?

    parts = header.split(";").map { |kv| kv.split("=", 2) }.to_h
    ts = parts["ts"].to_i
    return false if (Time.now.to_i - ts).abs > MAX_AGE

    expected = OpenSSL::HMAC.hexdigest("SHA256", secret, "#{ts}:#{raw_body}")
    ActiveSupport::SecurityUtils.secure_compare(expected, parts["h1"].to_s)
  end
end
