const mongoose = require('mongoose');

const userSchema = new mongoose.Schema({
  email: { type: String, required: true, unique: true },
  stripeCustomerId: { type: String, index: true },
  subscriptionId: String,
  isActive: { type: Boolean, default: false },
  currentPeriodEnd: Date,
});

module.exports = mongoose.model('User', userSchema);
