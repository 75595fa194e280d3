CREATE TABLE memberships (
  id INT AUTO_INCREMENT PRIMARY KEY,
  user_id INT NOT NULL,
  stripe_customer_id VARCHAR(64) UNIQUE,
  status VARCHAR(32) NOT NULL DEFAULT 'none',
  updated_at DATETIME NOT NULL
);
