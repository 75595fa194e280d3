from sqlalchemy.orm import Session

from app.models import User


def link_customer(db: Session, user_id: str, customer_id: str) -> None:
    user = db.get(User, int(user_id))
    if user is not None:
        user.stripe_customer_id = customer_id


def set_plan_by_customer(db: Session, customer_id: str, plan: str, is_pro: bool) -> None:
    user = db.query(User).filter(User.stripe_customer_id == customer_id).one_or_none()
    if user is None:
        return
    user.plan = plan
    user.is_pro = is_pro
