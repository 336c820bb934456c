"""failed checks of each submission, and indexes covering the lists and statistics

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 18:20:00

The statistics read these instead of every submission's result; existing results are
copied over here (in batches, reading the result column of graded submissions once).
"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    op.create_table(
        'failed_check',
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('check_id', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ['submission_id'],
            ['submission.id'],
            name=op.f('fk_failed_check_submission_id_submission'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('submission_id', 'check_id', name=op.f('pk_failed_check')),
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(
            'ix_submission_history',
            [
                'user_id', 'id', 'question_id', 'status', 'verdict', 'score', 'created_at',
                'regrade_of',
            ],
            unique=False,
        )
        batch_op.create_index(
            'ix_submission_stats',
            ['question_id', 'regrade_of', 'user_id', 'status', 'verdict', 'created_at'],
            unique=False,
        )
    _copy_failed_checks()


def _failed(result):
    if isinstance(result, str):
        result = json.loads(result)
    found = {}
    for check in (result or {}).get('checks') or []:
        if isinstance(check, dict) and check.get('required') and check.get('status') == 'failed':
            found.setdefault(str(check.get('id'))[:64], None)
    return list(found)


def _copy_failed_checks():
    bind = op.get_bind()
    submission = sa.table(
        'submission', sa.column('id', sa.Integer), sa.column('result', sa.JSON)
    )
    failed_check = sa.table(
        'failed_check', sa.column('submission_id', sa.Integer), sa.column('check_id', sa.String)
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(submission.c.id, submission.c.result)
            .where(submission.c.id > last, submission.c.result.is_not(None))
            .order_by(submission.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = [
            {'submission_id': row.id, 'check_id': check}
            for row in rows
            for check in _failed(row.result)
        ]
        if values:
            bind.execute(sa.insert(failed_check), values)
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_stats')
        batch_op.drop_index('ix_submission_history')
    op.drop_table('failed_check')
