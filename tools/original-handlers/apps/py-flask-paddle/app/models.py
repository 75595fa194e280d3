from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()

ACTIVE = ("active", "trialing")


class Subscription(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    paddle_id = db.Column(db.String(64), unique=True, nullable=False)
    customer_id = db.Column(db.String(64), index=True)
    status = db.Column(db.String(20), nullable=False, default="active")

    @property
    def grants_access(self) -> bool:
        return self.status in ACTIVE
